// In-memory model of a broker-held key with Azure Key Vault Secure Key Release semantics
// (Azure Key Vault SKR docs): a key created exportable must carry a release policy; an immutable
// policy can never be changed; a non-exportable key is never released. Key material is an RSA
// private key (RSA-3072 KEKs in this product) kept as PKCS#8 DER.
using System.Security.Cryptography;
using System.Text;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>
/// A key held by the local key broker. Immutable: every change returns a new record. The JSON
/// form (<see cref="ToJson"/>) contains the private key — the server must store it encrypted at
/// rest and never log it; <see cref="ToString"/> is redacted.
/// </summary>
public sealed class ExportableKeyRecord
{
    /// <summary>Version of the JSON record format.</summary>
    public const int RecordFormatVersion = 1;

    /// <summary>Smallest RSA key accepted for a record.</summary>
    public const int MinimumKeySizeBits = 2048;

    private readonly byte[] _pkcs8;

    private ExportableKeyRecord(string kid, byte[] pkcs8, byte[] modulus, byte[] exponent, bool exportable,
        IReadOnlyList<string> keyOps, ReleasePolicy? policy, bool immutable, DateTimeOffset created, DateTimeOffset updated)
    {
        Kid = kid;
        _pkcs8 = pkcs8;
        Modulus = modulus;
        Exponent = exponent;
        Exportable = exportable;
        KeyOps = keyOps;
        ReleasePolicy = policy;
        ReleasePolicyImmutable = immutable;
        Created = created;
        Updated = updated;
    }

    /// <summary>Operations a KEK permits by default.</summary>
    public static IReadOnlyList<string> DefaultKeyOps { get; } = ["wrapKey", "unwrapKey", "encrypt", "decrypt"];

    /// <summary>The key identifier (e.g. <c>https://{broker}/keys/{name}/{version}</c>).</summary>
    public string Kid { get; }

    /// <summary>RSA public modulus, big-endian.</summary>
    public byte[] Modulus { get; }

    /// <summary>RSA public exponent, big-endian.</summary>
    public byte[] Exponent { get; }

    /// <summary>Whether the key may ever leave the broker (fixed at creation).</summary>
    public bool Exportable { get; }

    /// <summary>The key's permitted operations.</summary>
    public IReadOnlyList<string> KeyOps { get; }

    /// <summary>The release policy; never null for an exportable key.</summary>
    public ReleasePolicy? ReleasePolicy { get; }

    /// <summary>True when the policy can never change.</summary>
    public bool ReleasePolicyImmutable { get; }

    /// <summary>Creation time.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>Last change time.</summary>
    public DateTimeOffset Updated { get; }

    /// <summary>Creates an exportable key record; refused when the policy is missing or does not parse.</summary>
    public static KeyReleaseResult<ExportableKeyRecord> CreateExportable(string kid, RSA key, string? releasePolicyJson,
        bool immutable, DateTimeOffset now, IReadOnlyList<string>? keyOps = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(releasePolicyJson))
        {
            return Refused(KeyReleaseErrorCodes.KeyPolicyRequired, "Key creation refused: an exportable key needs a release policy.");
        }

        var parsed = ReleasePolicy.Parse(releasePolicyJson);
        if (!parsed.IsSuccess)
        {
            return Refused(parsed.ErrorCode, parsed.Reason);
        }

        return KeyReleaseResult<ExportableKeyRecord>.Success(FromKey(kid, key, exportable: true, keyOps, parsed.Policy, immutable, now));
    }

    /// <summary>Creates a key that can never be released.</summary>
    public static ExportableKeyRecord CreateNonExportable(string kid, RSA key, DateTimeOffset now, IReadOnlyList<string>? keyOps = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        ArgumentNullException.ThrowIfNull(key);
        return FromKey(kid, key, exportable: false, keyOps, null, immutable: false, now);
    }

    /// <summary>Replaces the release policy; refused when the current one is immutable or the key is not exportable.</summary>
    public KeyReleaseResult<ExportableKeyRecord> WithReleasePolicy(string? releasePolicyJson, bool immutable, DateTimeOffset now)
    {
        if (!Exportable)
        {
            return Refused(KeyReleaseErrorCodes.KeyNotExportable, "Policy change refused: the key is not exportable.");
        }

        if (ReleasePolicyImmutable)
        {
            return Refused(KeyReleaseErrorCodes.KeyPolicyImmutable, "Policy change refused: the key's release policy is immutable.");
        }

        if (string.IsNullOrWhiteSpace(releasePolicyJson))
        {
            return Refused(KeyReleaseErrorCodes.KeyPolicyRequired, "Policy change refused: an exportable key needs a release policy.");
        }

        var parsed = ReleasePolicy.Parse(releasePolicyJson);
        if (!parsed.IsSuccess)
        {
            return Refused(parsed.ErrorCode, parsed.Reason);
        }

        return KeyReleaseResult<ExportableKeyRecord>.Success(
            new ExportableKeyRecord(Kid, _pkcs8, Modulus, Exponent, Exportable, KeyOps, parsed.Policy, immutable, Created, now));
    }

    /// <summary>
    /// The broker's release decision and envelope: refuses a non-exportable key, evaluates the
    /// policy against the (already signature-validated) token claims, wraps the key to the token's
    /// runtime key, and returns the unsigned response for the broker to <see cref="KeyReleaseResponse.Sign"/>.
    /// </summary>
    public KeyReleaseResult<KeyReleaseResponse> Release(JsonElement validatedTokenClaims, ReleaseRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Exportable || ReleasePolicy is null)
        {
            return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.KeyNotExportable,
                "Release refused: the key is not exportable.");
        }

        var decision = ReleasePolicy.Evaluate(validatedTokenClaims);
        if (!decision.IsAllowed)
        {
            return KeyReleaseResult<KeyReleaseResponse>.Failure(decision.ErrorCode!, decision.Reason!);
        }

        using var wrappingKey = RuntimeKeySelector.Select(validatedTokenClaims);
        if (!wrappingKey.IsSuccess)
        {
            return KeyReleaseResult<KeyReleaseResponse>.Failure(wrappingKey.ErrorCode, wrappingKey.Reason);
        }

        var keyHsm = KeyHsmEnvelope.Create(_pkcs8, wrappingKey.Key, Kid, request.Enc);
        return KeyReleaseResult<KeyReleaseResponse>.Success(new KeyReleaseResponse
        {
            Kid = Kid,
            KeyHsm = keyHsm,
            Enc = request.Enc,
            Nonce = request.Nonce,
            KeyOps = KeyOps,
            Modulus = Modulus,
            Exponent = Exponent,
            Exportable = true,
            Created = Created,
            Updated = Updated,
            ReleasePolicyJson = ReleasePolicy.Json,
            ReleasePolicyImmutable = ReleasePolicyImmutable,
        });
    }

    /// <summary>Serializes the record, private key included (PKCS#8, base64url). Protect at rest.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("record_version", RecordFormatVersion);
            writer.WriteString("kid", Kid);
            writer.WriteBoolean("exportable", Exportable);
            writer.WriteStartArray("key_ops");
            foreach (var op in KeyOps)
            {
                writer.WriteStringValue(op);
            }

            writer.WriteEndArray();
            writer.WriteString("key_pkcs8", Base64UrlCodec.Encode(_pkcs8));
            if (ReleasePolicy is not null)
            {
                writer.WriteStartObject("release_policy");
                writer.WriteString("contentType", KeyReleaseResponse.PolicyContentType);
                writer.WriteString("data", Base64UrlCodec.Encode(Encoding.UTF8.GetBytes(ReleasePolicy.Json)));
                writer.WriteBoolean("immutable", ReleasePolicyImmutable);
                writer.WriteEndObject();
            }

            writer.WriteNumber("created", Created.ToUnixTimeSeconds());
            writer.WriteNumber("updated", Updated.ToUnixTimeSeconds());
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a record written by <see cref="ToJson"/>; every invariant is re-checked.</summary>
    public static KeyReleaseResult<ExportableKeyRecord> FromJson(string json)
    {
        if (!KeyReleaseJson.TryParse(json, out var document))
        {
            return Malformed("not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("record_version", out var version)
                || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != RecordFormatVersion)
            {
                return Malformed($"record_version must be {RecordFormatVersion}.");
            }

            var kid = KeyReleaseJson.GetString(root, "kid");
            if (string.IsNullOrEmpty(kid)
                || !root.TryGetProperty("exportable", out var exportableElement)
                || exportableElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
                || !root.TryGetProperty("key_ops", out var opsElement) || opsElement.ValueKind != JsonValueKind.Array
                || opsElement.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String)
                || !root.TryGetProperty("created", out var createdElement)
                || createdElement.ValueKind != JsonValueKind.Number || !createdElement.TryGetInt64(out var created)
                || !root.TryGetProperty("updated", out var updatedElement)
                || updatedElement.ValueKind != JsonValueKind.Number || !updatedElement.TryGetInt64(out var updated)
                || created is < 0 or >= 253402300800 || updated is < 0 or >= 253402300800)
            {
                return Malformed("kid, exportable, key_ops, created or updated missing or of the wrong type.");
            }

            var exportable = exportableElement.ValueKind == JsonValueKind.True;
            ReleasePolicy? policy = null;
            var immutable = false;
            if (root.TryGetProperty("release_policy", out var policyElement))
            {
                if (!Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(policyElement, "data"), out var policyBytes))
                {
                    return Malformed("release_policy.data is not base64url.");
                }

                var parsed = ReleasePolicy.Parse(Encoding.UTF8.GetString(policyBytes));
                if (!parsed.IsSuccess)
                {
                    return Malformed("the stored release policy does not parse.");
                }

                policy = parsed.Policy;
                immutable = policyElement.TryGetProperty("immutable", out var im) && im.ValueKind == JsonValueKind.True;
            }

            if (exportable != (policy is not null))
            {
                return Malformed("an exportable key must have a release policy, and only an exportable key may.");
            }

            if (!Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(root, "key_pkcs8"), out var pkcs8)
                || !RsaTargetKey.TryImport(pkcs8, out var rsa))
            {
                return Malformed("key_pkcs8 is not an RSA PKCS#8 private key.");
            }

            using (rsa)
            {
                var publicParameters = rsa.ExportParameters(includePrivateParameters: false);
                return KeyReleaseResult<ExportableKeyRecord>.Success(new ExportableKeyRecord(
                    kid, pkcs8, publicParameters.Modulus!, publicParameters.Exponent!, exportable,
                    opsElement.EnumerateArray().Select(o => o.GetString()!).ToArray(), policy, immutable,
                    DateTimeOffset.FromUnixTimeSeconds(created), DateTimeOffset.FromUnixTimeSeconds(updated)));
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ExportableKeyRecord(kid={Kid}, exportable={Exportable}, immutable={ReleasePolicyImmutable}, key=<redacted>)";

    private static ExportableKeyRecord FromKey(string kid, RSA key, bool exportable, IReadOnlyList<string>? keyOps,
        ReleasePolicy? policy, bool immutable, DateTimeOffset now)
    {
        if (key.KeySize < MinimumKeySizeBits)
        {
            throw new ArgumentException($"The key must have at least {MinimumKeySizeBits} bits.", nameof(key));
        }

        var publicParameters = key.ExportParameters(includePrivateParameters: false);
        var pkcs8 = RsaTargetKey.Export(key);
        var seconds = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        return new ExportableKeyRecord(kid, pkcs8, publicParameters.Modulus!, publicParameters.Exponent!, exportable,
            (keyOps ?? DefaultKeyOps).ToArray(), policy, immutable, seconds, seconds);
    }

    private static KeyReleaseResult<ExportableKeyRecord> Refused(string code, string reason) =>
        KeyReleaseResult<ExportableKeyRecord>.Failure(code, reason);

    private static KeyReleaseResult<ExportableKeyRecord> Malformed(string what) =>
        KeyReleaseResult<ExportableKeyRecord>.Failure(KeyReleaseErrorCodes.KeyRecordMalformed, "Key record is malformed: " + what);
}

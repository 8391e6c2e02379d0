// Azure Key Vault key release response (Key Vault REST api-version 7.4, "release" operation;
// Azure Key Vault SKR docs). The service answers {"value": JWS}; the JWS (RFC 7515 compact,
// RS256 = RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3; Key Vault puts its signing
// certificate chain in the protected header as x5c, RFC 7515 section 4.1.6) carries
//   {"request":{"api-version","enc","kid","nonce"},
//    "response":{"key":{"key":{"kid","kty","key_ops","key_hsm","n","e"},
//                       "attributes":{"enabled","exportable","created","updated"},
//                       "release_policy":{"contentType","data","immutable"}}}}
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>
/// The signed payload of a key release. The broker fills it in and calls <see cref="Sign"/>; the
/// enclave calls <c>Verify</c> with the broker's public key or a <see cref="KeyReleaseSignerTrust"/>
/// (pinned key and/or trusted roots for the <c>x5c</c> chain Key Vault sends), then opens
/// <see cref="KeyHsm"/> with <see cref="KeyHsmEnvelope.TryOpen"/>.
/// </summary>
public sealed class KeyReleaseResponse
{
    /// <summary>The Key Vault API version this format follows.</summary>
    public const string ApiVersion = "7.4";

    /// <summary>The <c>contentType</c> of a JSON release policy.</summary>
    public const string PolicyContentType = "application/json; charset=utf-8";

    /// <summary>The only JWS algorithm written and accepted.</summary>
    public const string SignatureAlgorithm = "RS256";

    private const int MaxJwsLength = 1 << 20;

    /// <summary>Key identifier, e.g. <c>https://{vault}/keys/{name}/{version}</c>.</summary>
    public required string Kid { get; init; }

    /// <summary>The base64url <c>key_hsm</c> envelope.</summary>
    public required string KeyHsm { get; init; }

    /// <summary>The wrap algorithm echoed from the request.</summary>
    public required KeyWrapAlgorithm Enc { get; init; }

    /// <summary>The nonce echoed from the request; null when none was sent.</summary>
    public string? Nonce { get; init; }

    /// <summary>The JWK <c>kty</c> of the released key.</summary>
    public string KeyType { get; init; } = "RSA-HSM";

    /// <summary>The released key's permitted operations.</summary>
    public IReadOnlyList<string> KeyOps { get; init; } = [];

    /// <summary>Public modulus of the released RSA key (big-endian); empty when absent.</summary>
    public byte[] Modulus { get; init; } = [];

    /// <summary>Public exponent of the released RSA key (big-endian); empty when absent.</summary>
    public byte[] Exponent { get; init; } = [];

    /// <summary>The key's <c>exportable</c> attribute.</summary>
    public bool Exportable { get; init; } = true;

    /// <summary>The key's <c>enabled</c> attribute.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Creation time (<c>attributes.created</c>, Unix seconds on the wire).</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>Last update time (<c>attributes.updated</c>).</summary>
    public DateTimeOffset? Updated { get; init; }

    /// <summary>The release policy JSON the key carries (decoded from <c>release_policy.data</c>).</summary>
    public string? ReleasePolicyJson { get; init; }

    /// <summary>Whether that policy is immutable.</summary>
    public bool ReleasePolicyImmutable { get; init; }

    /// <summary>
    /// Signs this payload as a compact JWS (RS256) with the broker's key. The protected header
    /// carries <c>kid</c> and/or <c>x5c</c> (+ <c>x5t#S256</c>); at least one is required.
    /// </summary>
    public string Sign(RSA signingKey, string? signingKeyId = null, IReadOnlyList<X509Certificate2>? certificateChain = null)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        if (string.IsNullOrEmpty(signingKeyId) && (certificateChain is null || certificateChain.Count == 0))
        {
            throw new ArgumentException("The JWS header needs a kid or an x5c chain.", nameof(signingKeyId));
        }

        var header = WriteJson(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("alg", SignatureAlgorithm);
            if (!string.IsNullOrEmpty(signingKeyId))
            {
                writer.WriteString("kid", signingKeyId);
            }

            if (certificateChain is { Count: > 0 })
            {
                writer.WriteString("x5t#S256", Base64UrlCodec.Encode(SHA256.HashData(certificateChain[0].RawData)));
                writer.WriteStartArray("x5c");
                foreach (var certificate in certificateChain)
                {
                    writer.WriteStringValue(Convert.ToBase64String(certificate.RawData));
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        });

        var signingInput = Base64UrlCodec.Encode(header) + "." + Base64UrlCodec.Encode(WriteJson(WritePayload));
        var signature = signingKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64UrlCodec.Encode(signature);
    }

    /// <summary>
    /// Verifies a release response JWS against the broker's public key (RS256 only; a
    /// <c>crit</c> header is refused), checks that it echoes <paramref name="expectedNonce"/>
    /// when one was sent, and parses the payload. Failures are typed, never exceptions.
    /// </summary>
    public static KeyReleaseResult<KeyReleaseResponse> Verify(string jws, RSA brokerPublicKey, string? expectedNonce)
    {
        ArgumentNullException.ThrowIfNull(brokerPublicKey);
        return VerifyCore(jws, brokerPublicKey, trustedRoots: null, expectedNonce, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Verifies a release response JWS under <paramref name="signers"/>: RS256 only (a <c>crit</c>
    /// header is refused); with trusted roots, the header's <c>x5c</c> chain must build to one of them
    /// at <paramref name="verificationTime"/> (see <see cref="KeyReleaseSignerTrust"/>) and the JWS must
    /// verify under its leaf; with a pinned key, under that key (both when both are configured). Then
    /// checks the <paramref name="expectedNonce"/> echo and parses the payload. Failures are typed.
    /// </summary>
    public static KeyReleaseResult<KeyReleaseResponse> Verify(string jws, KeyReleaseSignerTrust signers, string? expectedNonce, DateTimeOffset verificationTime)
    {
        ArgumentNullException.ThrowIfNull(signers);
        return VerifyCore(jws, signers.PinnedSigner, signers.RequiresCertificateChain ? signers.TrustedRoots : null, expectedNonce, verificationTime);
    }

    private static KeyReleaseResult<KeyReleaseResponse> VerifyCore(
        string? jws, RSA? pinnedSigner, X509Certificate2Collection? trustedRoots, string? expectedNonce, DateTimeOffset verificationTime)
    {
        var parts = jws?.Split('.');
        if (jws is null || jws.Length > MaxJwsLength || parts!.Length != 3)
        {
            return Malformed("not a compact JWS.");
        }

        if (!Base64UrlCodec.TryDecode(parts[0], out var headerBytes)
            || !Base64UrlCodec.TryDecode(parts[1], out var payloadBytes)
            || !Base64UrlCodec.TryDecode(parts[2], out var signature))
        {
            return Malformed("a JWS part is not base64url.");
        }

        if (!KeyReleaseJson.TryParse(headerBytes, out var headerDocument))
        {
            return Malformed("the JWS header is not JSON.");
        }

        RSA? certifiedSigner = null;
        try
        {
            using (headerDocument)
            {
                var header = headerDocument.RootElement;
                if (header.ValueKind != JsonValueKind.Object
                    || KeyReleaseJson.GetString(header, "alg") != SignatureAlgorithm
                    || header.TryGetProperty("crit", out _))
                {
                    return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.ResponseSignatureInvalid,
                        "Release response refused: the JWS is not RS256 (or has critical headers).");
                }

                if (trustedRoots is not null)
                {
                    var chain = X5cChainValidator.Validate(header, trustedRoots, verificationTime);
                    if (!chain.IsSuccess)
                    {
                        return KeyReleaseResult<KeyReleaseResponse>.Failure(chain.ErrorCode, chain.Reason);
                    }

                    certifiedSigner = chain.Value;
                }
            }

            if (certifiedSigner is not null && pinnedSigner is not null && !SamePublicKey(certifiedSigner, pinnedSigner))
            {
                return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.ResponseSignerNotPinned,
                    "Release response refused: the x5c leaf certificate's key is not the pinned signer key.");
            }

            var signer = certifiedSigner ?? pinnedSigner;
            if (signer is null)
            {
                return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.SignerTrustInvalid,
                    "Release response refused: no signer key is pinned and no trusted root is configured.");
            }

            var signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            if (!signer.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.ResponseSignatureInvalid,
                    certifiedSigner is null
                        ? "Release response refused: the JWS signature does not verify under the broker key."
                        : "Release response refused: the JWS signature does not verify under the x5c leaf certificate's key.");
            }
        }
        finally
        {
            certifiedSigner?.Dispose();
        }

        if (!KeyReleaseJson.TryParse(payloadBytes, out var payloadDocument))
        {
            return Malformed("the JWS payload is not JSON.");
        }

        using (payloadDocument)
        {
            var parsed = ParsePayload(payloadDocument.RootElement);
            if (!parsed.IsSuccess)
            {
                return parsed;
            }

            if (expectedNonce is not null && !string.Equals(parsed.Value.Nonce, expectedNonce, StringComparison.Ordinal))
            {
                return KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.ResponseNonceMismatch,
                    "Release response refused: it does not echo the request nonce.");
            }

            return parsed;
        }
    }

    private static bool SamePublicKey(RSA a, RSA b)
    {
        var pa = a.ExportParameters(false);
        var pb = b.ExportParameters(false);
        return pa.Modulus.AsSpan().SequenceEqual(pb.Modulus) && pa.Exponent.AsSpan().SequenceEqual(pb.Exponent);
    }

    /// <summary>Extracts the JWS from the service's <c>{"value": "&lt;JWS&gt;"}</c> body; null if absent.</summary>
    internal static string? ReadValueEnvelope(ReadOnlyMemory<byte> body)
    {
        if (!KeyReleaseJson.TryParse(body, out var document))
        {
            return null;
        }

        using (document)
        {
            var value = KeyReleaseJson.GetString(document.RootElement, "value");
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }

    private static KeyReleaseResult<KeyReleaseResponse> ParsePayload(JsonElement root)
    {
        if (!TryGetObject(root, "request", out var request)
            || !TryGetObject(root, "response", out var response)
            || !TryGetObject(response, "key", out var keyBundle)
            || !TryGetObject(keyBundle, "key", out var key))
        {
            return Malformed("payload lacks request/response.key.key.");
        }

        var kid = KeyReleaseJson.GetString(key, "kid");
        var keyHsm = KeyReleaseJson.GetString(key, "key_hsm");
        if (string.IsNullOrEmpty(kid) || string.IsNullOrEmpty(keyHsm))
        {
            return Malformed("the released key has no kid or key_hsm.");
        }

        if (!KeyWrapAlgorithmNames.TryParse(KeyReleaseJson.GetString(request, "enc"), out var enc))
        {
            return Malformed("request.enc is not a supported algorithm.");
        }

        string? nonce = null;
        if (request.TryGetProperty("nonce", out var nonceElement) && nonceElement.ValueKind != JsonValueKind.Null)
        {
            if (nonceElement.ValueKind != JsonValueKind.String)
            {
                return Malformed("request.nonce is not a string.");
            }

            nonce = nonceElement.GetString();
        }

        var keyOps = new List<string>();
        if (key.TryGetProperty("key_ops", out var ops))
        {
            if (ops.ValueKind != JsonValueKind.Array || ops.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String))
            {
                return Malformed("key_ops is not an array of strings.");
            }

            keyOps.AddRange(ops.EnumerateArray().Select(o => o.GetString()!));
        }

        if (!TryGetOptionalBytes(key, "n", out var modulus) || !TryGetOptionalBytes(key, "e", out var exponent))
        {
            return Malformed("n or e is not base64url.");
        }

        var exportable = false;
        var enabled = false;
        DateTimeOffset? created = null, updated = null;
        if (TryGetObject(keyBundle, "attributes", out var attributes))
        {
            exportable = attributes.TryGetProperty("exportable", out var x) && x.ValueKind == JsonValueKind.True;
            enabled = attributes.TryGetProperty("enabled", out var en) && en.ValueKind == JsonValueKind.True;
            created = ReadUnixTime(attributes, "created");
            updated = ReadUnixTime(attributes, "updated");
        }

        string? policyJson = null;
        var immutable = false;
        if (TryGetObject(keyBundle, "release_policy", out var policy))
        {
            if (!Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(policy, "data"), out var policyBytes))
            {
                return Malformed("release_policy.data is not base64url.");
            }

            policyJson = Encoding.UTF8.GetString(policyBytes);
            immutable = policy.TryGetProperty("immutable", out var im) && im.ValueKind == JsonValueKind.True;
        }

        return KeyReleaseResult<KeyReleaseResponse>.Success(new KeyReleaseResponse
        {
            Kid = kid,
            KeyHsm = keyHsm,
            Enc = enc,
            Nonce = nonce,
            KeyType = KeyReleaseJson.GetString(key, "kty") ?? string.Empty,
            KeyOps = keyOps,
            Modulus = modulus,
            Exponent = exponent,
            Exportable = exportable,
            Enabled = enabled,
            Created = created,
            Updated = updated,
            ReleasePolicyJson = policyJson,
            ReleasePolicyImmutable = immutable,
        });
    }

    private void WritePayload(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("request");
        writer.WriteString("api-version", ApiVersion);
        writer.WriteString("enc", Enc.ToWireName());
        writer.WriteString("kid", Kid);
        if (Nonce is not null)
        {
            writer.WriteString("nonce", Nonce);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("response");
        writer.WriteStartObject("key");
        writer.WriteStartObject("key");
        writer.WriteString("kid", Kid);
        writer.WriteString("kty", KeyType);
        writer.WriteStartArray("key_ops");
        foreach (var op in KeyOps)
        {
            writer.WriteStringValue(op);
        }

        writer.WriteEndArray();
        writer.WriteString("key_hsm", KeyHsm);
        if (Modulus.Length > 0 && Exponent.Length > 0)
        {
            writer.WriteString("n", Base64UrlCodec.Encode(Modulus));
            writer.WriteString("e", Base64UrlCodec.Encode(Exponent));
        }

        writer.WriteEndObject();
        writer.WriteStartObject("attributes");
        writer.WriteBoolean("enabled", Enabled);
        writer.WriteBoolean("exportable", Exportable);
        if (Created is { } created)
        {
            writer.WriteNumber("created", created.ToUnixTimeSeconds());
        }

        if (Updated is { } updated)
        {
            writer.WriteNumber("updated", updated.ToUnixTimeSeconds());
        }

        writer.WriteEndObject();
        if (ReleasePolicyJson is not null)
        {
            writer.WriteStartObject("release_policy");
            writer.WriteString("contentType", PolicyContentType);
            writer.WriteString("data", Base64UrlCodec.Encode(Encoding.UTF8.GetBytes(ReleasePolicyJson)));
            writer.WriteBoolean("immutable", ReleasePolicyImmutable);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static byte[] WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    private static bool TryGetObject(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.Object;

    private static bool TryGetOptionalBytes(JsonElement parent, string name, out byte[] value)
    {
        value = [];
        if (!parent.TryGetProperty(name, out var element))
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.String && Base64UrlCodec.TryDecode(element.GetString(), out var bytes))
        {
            value = bytes;
            return true;
        }

        return false;
    }

    private static DateTimeOffset? ReadUnixTime(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var seconds)
            && seconds is >= 0 and < 253402300800
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private static KeyReleaseResult<KeyReleaseResponse> Malformed(string what) =>
        KeyReleaseResult<KeyReleaseResponse>.Failure(KeyReleaseErrorCodes.ResponseMalformed, "Release response is malformed: " + what);
}

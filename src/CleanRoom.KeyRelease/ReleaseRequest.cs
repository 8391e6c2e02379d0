// Azure Key Vault "release" request body (Key Vault REST api-version 7.4, POST .../release):
// {"target": "<attestation JWT>", "nonce": "<optional>", "enc": "CKM_RSA_AES_KEY_WRAP" | "RSA_AES_KEY_WRAP_256" | "RSA_AES_KEY_WRAP_384"}
using System.Text;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>The body of a key release request. <see cref="ToString"/> never prints the token.</summary>
public sealed class ReleaseRequest
{
    /// <summary>Creates a request; <paramref name="target"/> is the attestation token (JWT).</summary>
    public ReleaseRequest(string target, string? nonce, KeyWrapAlgorithm enc)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        if (!KeyWrapAlgorithmNames.IsDefined(enc))
        {
            throw new ArgumentOutOfRangeException(nameof(enc), enc, "Not a key wrap algorithm.");
        }

        Target = target;
        Nonce = string.IsNullOrEmpty(nonce) ? null : nonce;
        Enc = enc;
    }

    /// <summary>The attestation token. Secret-ish: never log it.</summary>
    public string Target { get; }

    /// <summary>The caller's nonce, echoed in the signed response; null when none.</summary>
    public string? Nonce { get; }

    /// <summary>How the released key is to be wrapped.</summary>
    public KeyWrapAlgorithm Enc { get; }

    /// <summary>The JSON body as UTF-8.</summary>
    public byte[] ToUtf8Json()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("target", Target);
            if (Nonce is not null)
            {
                writer.WriteString("nonce", Nonce);
            }

            writer.WriteString("enc", Enc.ToWireName());
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The JSON body.</summary>
    public string ToJson() => Encoding.UTF8.GetString(ToUtf8Json());

    /// <summary>Parses a request body (broker side). Unknown properties are refused.</summary>
    public static KeyReleaseResult<ReleaseRequest> Parse(string json)
    {
        if (!KeyReleaseJson.TryParse(json, out var document))
        {
            return Malformed("not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Malformed("not a JSON object.");
            }

            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("target" or "nonce" or "enc"))
                {
                    return Malformed("unknown property.");
                }
            }

            var target = KeyReleaseJson.GetString(root, "target");
            if (string.IsNullOrEmpty(target))
            {
                return Malformed("'target' (the attestation token) is required.");
            }

            string? nonce = null;
            if (root.TryGetProperty("nonce", out var nonceElement))
            {
                if (nonceElement.ValueKind != JsonValueKind.String)
                {
                    return Malformed("'nonce' must be a string.");
                }

                nonce = nonceElement.GetString();
            }

            if (!KeyWrapAlgorithmNames.TryParse(KeyReleaseJson.GetString(root, "enc"), out var enc))
            {
                return Malformed("'enc' must be CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384.");
            }

            return KeyReleaseResult<ReleaseRequest>.Success(new ReleaseRequest(target, nonce, enc));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ReleaseRequest(enc={Enc.ToWireName()}, nonce={(Nonce is null ? "none" : "set")}, target=<redacted>)";

    private static KeyReleaseResult<ReleaseRequest> Malformed(string what) =>
        KeyReleaseResult<ReleaseRequest>.Failure(KeyReleaseErrorCodes.RequestMalformed, "Release request is malformed: " + what);
}

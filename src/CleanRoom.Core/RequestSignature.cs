// Request authentication: every API call carries the caller's Ed25519 signature over the
// method, path and query, SHA-256 of the body, a timestamp and a single-use nonce.
using System.Text;
using NSec.Cryptography;

namespace CleanRoom.Core;

public static class RequestSignature
{
    public const string KeyIdHeader = "CleanRoom-Key-Id";
    public const string TimestampHeader = "CleanRoom-Timestamp";
    public const string NonceHeader = "CleanRoom-Nonce";
    public const string ContentSha256Header = "CleanRoom-Content-SHA256";
    public const string SignatureHeader = "CleanRoom-Signature";

    /// <summary>How far a request's timestamp may be from the server's clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public static byte[] SigningInput(string method, string pathAndQuery, string contentSha256Hex, long timestamp, string nonce, string keyId) =>
        Encoding.UTF8.GetBytes($"cleanroom-request-v1\n{method.ToUpperInvariant()}\n{pathAndQuery}\n{contentSha256Hex}\n{timestamp}\n{nonce}\n{keyId}");

    public static string Sign(Key signingKey, string method, string pathAndQuery, string contentSha256Hex, long timestamp, string nonce)
    {
        var keyId = PartyKeys.KeyId(signingKey.PublicKey);
        return Hashing.B64Url(SignatureAlgorithm.Ed25519.Sign(signingKey, SigningInput(method, pathAndQuery, contentSha256Hex, timestamp, nonce, keyId)));
    }

    public static bool Verify(PublicKey key, string method, string pathAndQuery, string contentSha256Hex, long timestamp, string nonce, string signatureB64Url)
    {
        if (!Hashing.TryFromB64Url(signatureB64Url, out var signature))
        {
            return false;
        }

        var keyId = PartyKeys.KeyId(key);
        return SignatureAlgorithm.Ed25519.Verify(key, SigningInput(method, pathAndQuery, contentSha256Hex, timestamp, nonce, keyId), signature);
    }
}

// JOSE helpers: base64url (RFC 4648 §5, unpadded, as RFC 7515 requires), RSA JWKs (RFC 7517/7518 §6.3)
// and JWK thumbprints (RFC 7638, SHA-256).
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Shared;

namespace CleanRoom.Attestation.Internal;

internal static class Jose
{
    public static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    /// <summary>
    /// Parses strict JSON, or returns null. JSON escapes can spell a lone UTF-16 surrogate ("\ud800"); the reader accepts it
    /// but every later GetString or property name throws, so such a document is refused here with the malformed ones.
    /// </summary>
    public static JsonDocument? TryParseStrict(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, StrictJson);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // InvalidOperationException: the duplicate-name check reads a lone-surrogate name
        }

        if (JsonText.IsWellFormed(doc.RootElement))
        {
            return doc;
        }

        doc.Dispose();
        return null;
    }

    public static string Encode(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Contains('=', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            bytes = Base64Url.DecodeFromChars(text);
            return Base64Url.EncodeToString(bytes) == text; // canonical encoding only
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>RFC 7638 thumbprint of an RSA public key: base64url(SHA-256 of {"e","kty","n"} in that order).</summary>
    public static string RsaThumbprint(RSAParameters p)
    {
        string canonical = $"{{\"e\":\"{Encode(p.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Encode(p.Modulus)}\"}}";
        return Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static void WriteRsaJwk(Utf8JsonWriter writer, RSAParameters p, string kid)
    {
        writer.WriteStartObject();
        writer.WriteString("kty", "RSA");
        writer.WriteString("use", "sig");
        writer.WriteString("alg", "RS256");
        writer.WriteString("kid", kid);
        writer.WriteString("n", Encode(p.Modulus));
        writer.WriteString("e", Encode(p.Exponent));
        writer.WriteEndObject();
    }

    public static string WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

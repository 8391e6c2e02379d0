// JWS compact serialization (RFC 7515) with alg "EdDSA" over Ed25519 (RFC 8037).
// Payloads are RFC 8785 canonical JSON so that any JOSE library can verify them and
// two parties agree on the bytes that were signed.
using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace CleanRoom.Core;

public static class Jws
{
    /// <summary>Signs a canonical JSON payload. <paramref name="type"/> goes into the protected "typ" header.</summary>
    public static string Sign<T>(T payload, Key signingKey, string type)
    {
        var payloadBytes = CanonicalJson.Serialize(payload);
        return SignBytes(payloadBytes, signingKey, type);
    }

    public static string SignBytes(ReadOnlySpan<byte> canonicalPayload, Key signingKey, string type)
    {
        if (signingKey.Algorithm != SignatureAlgorithm.Ed25519)
        {
            throw new ArgumentException("JWS signing key must be Ed25519", nameof(signingKey));
        }

        var kid = PartyKeys.KeyId(signingKey.PublicKey);
        var header = CanonicalJson.Serialize(new JwsHeader("EdDSA", kid, type));
        var signingInput = Hashing.B64Url(header) + "." + Hashing.B64Url(canonicalPayload);
        var signature = SignatureAlgorithm.Ed25519.Sign(signingKey, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Hashing.B64Url(signature);
    }

    /// <summary>
    /// Verifies a compact EdDSA JWS against a known public key. Returns a failed result (never throws)
    /// for malformed input, a wrong algorithm, a wrong type or a bad signature.
    /// </summary>
    public static JwsVerification Verify(string? compact, PublicKey expectedKey, string expectedType)
    {
        if (!TryDecode(compact, out var decoded, out var error))
        {
            return JwsVerification.Fail("jws.malformed", error!);
        }

        if (decoded!.Header.Alg != "EdDSA")
        {
            return JwsVerification.Fail("jws.bad_algorithm", $"signature algorithm '{decoded.Header.Alg}' is not accepted; only EdDSA is");
        }

        if (decoded.Header.Typ != expectedType)
        {
            return JwsVerification.Fail("jws.wrong_type", $"statement type '{decoded.Header.Typ}' is not the expected '{expectedType}'");
        }

        if (!SignatureAlgorithm.Ed25519.Verify(expectedKey, Encoding.ASCII.GetBytes(decoded.SigningInput), decoded.Signature))
        {
            return JwsVerification.Fail("jws.bad_signature", $"signature of the {expectedType} statement does not verify under the expected key");
        }

        return JwsVerification.Ok(decoded);
    }

    public static JwsVerification Verify(string? compact, string expectedPublicKeyB64Url, string expectedType)
    {
        if (!PartyKeys.TryImportSigningPublicKey(expectedPublicKeyB64Url, out var key))
        {
            return JwsVerification.Fail("jws.bad_key", "the expected signer's public key is not a valid Ed25519 key");
        }

        return Verify(compact, key!, expectedType);
    }

    /// <summary>Splits and decodes a compact JWS without checking its signature.</summary>
    public static bool TryDecode(string? compact, out DecodedJws? decoded, out string? error)
    {
        decoded = null;
        error = null;
        if (string.IsNullOrEmpty(compact))
        {
            error = "signed statement is empty";
            return false;
        }

        var parts = compact.Split('.');
        if (parts.Length != 3)
        {
            error = "signed statement is not a compact JWS (expected three dot-separated parts)";
            return false;
        }

        if (!Hashing.TryFromB64Url(parts[0], out var headerBytes)
            || !Hashing.TryFromB64Url(parts[1], out var payloadBytes)
            || !Hashing.TryFromB64Url(parts[2], out var signature))
        {
            error = "signed statement contains invalid base64url";
            return false;
        }

        try
        {
            var header = JsonSerializer.Deserialize<JwsHeader>(headerBytes, CanonicalJson.SerializerOptions);
            if (header is null || header.Alg is null)
            {
                error = "signed statement header lacks 'alg'";
                return false;
            }

            // Exactly what Sign writes: a header of alg, kid and typ once each (no crit, b64 or other member a different
            // reader might honour) and a canonical payload (no duplicate member that readers could resolve differently).
            if (!headerBytes.AsSpan().SequenceEqual(CanonicalJson.Serialize(header)))
            {
                error = "signed statement header is not canonical: it must hold alg, kid and typ once each and nothing else";
                return false;
            }

            if (!payloadBytes.AsSpan().SequenceEqual(CanonicalJson.Canonicalize(payloadBytes)))
            {
                error = "signed statement payload is not canonical JSON";
                return false;
            }

            using var doc = JsonDocument.Parse(payloadBytes);
            decoded = new DecodedJws(header, payloadBytes, doc.RootElement.Clone(), signature, parts[0] + "." + parts[1]);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            error = "signed statement header or payload is not valid canonical JSON";
            return false;
        }
    }
}

public sealed record JwsHeader(string Alg, string? Kid, string? Typ);

public sealed record DecodedJws(JwsHeader Header, byte[] PayloadBytes, JsonElement Payload, byte[] Signature, string SigningInput)
{
    public T? PayloadAs<T>() => Payload.Deserialize<T>(CanonicalJson.SerializerOptions);
}

public sealed record JwsVerification
{
    public bool IsValid { get; private init; }

    public string? ErrorCode { get; private init; }

    public string? Reason { get; private init; }

    public DecodedJws? Jws { get; private init; }

    public static JwsVerification Fail(string code, string reason) => new() { ErrorCode = code, Reason = reason };

    public static JwsVerification Ok(DecodedJws jws) => new() { IsValid = true, Jws = jws };
}

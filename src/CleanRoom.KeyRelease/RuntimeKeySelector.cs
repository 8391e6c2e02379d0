// Wrapping-key selection for Secure Key Release (Azure Key Vault SKR docs; MAA token claim
// x-ms-runtime = the runtimeData JSON bound into SEV-SNP REPORT_DATA): the first RSA JWK
// (RFC 7517/7518 section 6.3: n, e base64url) in x-ms-runtime.keys whose key_ops contains
// "encrypt" or whose use is "enc". Modulus at least 2048 bits.
using System.Security.Cryptography;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>Picks the RSA key a released key is wrapped to, from validated attestation token claims.</summary>
public static class RuntimeKeySelector
{
    /// <summary>
    /// Selects the wrapping key. The caller has already validated the token; the key is
    /// trustworthy only because the attested REPORT_DATA binds the runtime data it came from.
    /// Later keys are not considered once the first eligible RSA key is found, even if it is unusable.
    /// </summary>
    public static RuntimeKeySelection Select(JsonElement tokenClaims)
    {
        if (tokenClaims.ValueKind != JsonValueKind.Object
            || !tokenClaims.TryGetProperty("x-ms-runtime", out var runtime)
            || runtime.ValueKind != JsonValueKind.Object
            || !runtime.TryGetProperty("keys", out var keys)
            || keys.ValueKind != JsonValueKind.Array)
        {
            return RuntimeKeySelection.Failure(KeyReleaseErrorCodes.RuntimeKeysMissing,
                "No wrapping key: the token has no x-ms-runtime.keys array.");
        }

        if (!KeyReleaseJson.IsWellFormedText(keys))
        {
            return RuntimeKeySelection.Failure(KeyReleaseErrorCodes.RuntimeKeyInvalid,
                "No wrapping key: x-ms-runtime.keys holds a string that is not valid UTF-16 (a lone surrogate escape).");
        }

        foreach (var jwk in keys.EnumerateArray())
        {
            if (jwk.ValueKind != JsonValueKind.Object
                || KeyReleaseJson.GetString(jwk, "kty") != "RSA"
                || !IsForEncryption(jwk))
            {
                continue;
            }

            return ToRsa(jwk);
        }

        return RuntimeKeySelection.Failure(KeyReleaseErrorCodes.RuntimeKeyNotFound,
            "No wrapping key: x-ms-runtime.keys holds no RSA key for encryption (key_ops 'encrypt' or use 'enc').");
    }

    private static bool IsForEncryption(JsonElement jwk)
    {
        if (KeyReleaseJson.GetString(jwk, "use") == "enc")
        {
            return true;
        }

        return jwk.TryGetProperty("key_ops", out var ops)
            && ops.ValueKind == JsonValueKind.Array
            && ops.EnumerateArray().Any(o => o.ValueKind == JsonValueKind.String && o.GetString() == "encrypt");
    }

    private static RuntimeKeySelection ToRsa(JsonElement jwk)
    {
        if (!Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(jwk, "n"), out var n)
            || !Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(jwk, "e"), out var e)
            || n.Length == 0 || e.Length == 0 || e.Length > 8)
        {
            return Invalid();
        }

        var id = Convert.ToHexString(SHA256.HashData([.. n, .. e])) + ":" + e.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Imported.TryGetValue(id, out var known))
        {
            return RuntimeKeySelection.Shared(known, KeyReleaseJson.GetString(jwk, "kid"));
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = n, Exponent = e });
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            return Invalid();
        }

        if (rsa.KeySize < KeyHsmEnvelope.MinimumRsaKeySizeBits)
        {
            rsa.Dispose();
            return Invalid();
        }

        if (Imported.Count >= MaxImported)
        {
            Imported.Clear(); // dropped, not disposed: a concurrent release may hold one (left to the GC)
        }

        return RuntimeKeySelection.Shared(Imported.GetOrAdd(id, rsa), KeyReleaseJson.GetString(jwk, "kid"));
    }

    private const int MaxImported = 256;

    /// <summary>
    /// Imported runtime keys by SHA-256 of modulus and exponent: one enclave boot asks for several keys with the same runtime
    /// key, and an RSA-3072 import costs more than the encryption. Only valid keys are kept; shared instances are used under
    /// their lock (<see cref="KeyHsmEnvelope.Create"/>) and never disposed by a selection.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, RSA> Imported = new(StringComparer.Ordinal);

    private static RuntimeKeySelection Invalid() =>
        RuntimeKeySelection.Failure(KeyReleaseErrorCodes.RuntimeKeyInvalid,
            $"No wrapping key: the selected runtime key is not a valid RSA key of at least {KeyHsmEnvelope.MinimumRsaKeySizeBits} bits.");
}

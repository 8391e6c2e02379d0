// Validation of MAA-shaped attestation tokens: JWS compact serialization (RFC 7515) with RS256
// only (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3, modulus ≥ 2048 bits), key chosen by kid from
// a caller-supplied JWKS (RFC 7517); JWT claims iss/exp/nbf (RFC 7519 §4.1) with clock skew.
// Written by hand so that no algorithm other than RS256 can ever be negotiated.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Attestation.Internal;

namespace CleanRoom.Attestation;

/// <summary>Validates attestation tokens issued by <see cref="AttestationAuthority"/> or by MAA.</summary>
public static class AttestationTokenValidator
{
    private const int MaxTokenLength = 256 * 1024;
    private const int MinRsaModulusBits = 2048;
    private const int MaxImportedKeys = 64;

    /// <summary>9999-12-31T23:59:59Z, the last second <see cref="DateTimeOffset"/> can represent.</summary>
    private const long MaxNumericDate = 253402300799;

    /// <summary>
    /// Imported JWKS keys by SHA-256 of modulus and exponent: an RSA import costs several signature verifications, and an
    /// authority's keys change rarely. Only the import is reused; the JWKS is parsed and the kid matched on every call, so a
    /// key removed from the JWKS is refused at once.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, RSA> ImportedKeys = new(StringComparer.Ordinal);

    public static TokenValidationResult Validate(string jwt, string jwksJson, TokenValidationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.ExpectedIssuer))
        {
            return TokenValidationResult.Failure(TokenErrorCodes.IssuerMismatch, "no expected issuer configured; refusing every token");
        }

        if (string.IsNullOrEmpty(jwt) || jwt.Length > MaxTokenLength)
        {
            return TokenValidationResult.Failure(TokenErrorCodes.Malformed, "the token is empty or too long");
        }

        string[] parts = jwt.Split('.');
        if (parts.Length != 3
            || !Jose.TryDecode(parts[0], out byte[] headerBytes)
            || !Jose.TryDecode(parts[1], out byte[] payloadBytes)
            || !Jose.TryDecode(parts[2], out byte[] signature))
        {
            return TokenValidationResult.Failure(TokenErrorCodes.Malformed, "the token is not a three-part base64url JWS");
        }

        string? kid;
        using (JsonDocument? header = ParseObject(headerBytes))
        {
            if (header is null)
            {
                return TokenValidationResult.Failure(TokenErrorCodes.Malformed, "the token header is not a JSON object of valid text");
            }

            JsonElement h = header.RootElement;
            if (!h.TryGetProperty("alg", out JsonElement alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != "RS256")
            {
                string shown = alg.ValueKind == JsonValueKind.String ? alg.GetString()! : "(missing)";
                return TokenValidationResult.Failure(TokenErrorCodes.AlgorithmNotAllowed, $"algorithm '{Truncate(shown)}' is not allowed; only RS256 is");
            }

            if (h.TryGetProperty("crit", out _))
            {
                return TokenValidationResult.Failure(TokenErrorCodes.CriticalHeaderUnsupported, "the token has critical header parameters this validator does not understand");
            }

            if (h.TryGetProperty("typ", out JsonElement typ) && (typ.ValueKind != JsonValueKind.String || !string.Equals(typ.GetString(), "JWT", StringComparison.OrdinalIgnoreCase)))
            {
                return TokenValidationResult.Failure(TokenErrorCodes.Malformed, "the token typ is not JWT");
            }

            if (!h.TryGetProperty("kid", out JsonElement kidElement) || kidElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(kidElement.GetString()))
            {
                return TokenValidationResult.Failure(TokenErrorCodes.KeyIdMissing, "the token header has no kid");
            }

            kid = kidElement.GetString()!;
        }

        // Shared with other calls (see ImportedKeys): never disposed here, used under its lock.
        RSA? key = FindKey(jwksJson, kid, out string? keyError, out string keyErrorCode);
        if (key is null)
        {
            return TokenValidationResult.Failure(keyErrorCode, keyError!);
        }

        byte[] signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        bool verified;
        lock (key)
        {
            verified = signature.Length == key.KeySize / 8 && key.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        if (!verified)
        {
            return TokenValidationResult.Failure(TokenErrorCodes.SignatureInvalid, "the token signature does not verify under the JWKS key");
        }

        using JsonDocument? payload = ParseObject(payloadBytes);
        if (payload is null)
        {
            return TokenValidationResult.Failure(TokenErrorCodes.Malformed, "the token payload is not a JSON object of valid text");
        }

        return ValidateClaims(payload.RootElement, options);
    }

    private static TokenValidationResult ValidateClaims(JsonElement claims, TokenValidationOptions options)
    {
        if (!claims.TryGetProperty("iss", out JsonElement iss) || iss.ValueKind != JsonValueKind.String
            || !string.Equals(iss.GetString(), options.ExpectedIssuer, StringComparison.Ordinal))
        {
            return TokenValidationResult.Failure(TokenErrorCodes.IssuerMismatch, $"the token issuer is not the expected '{options.ExpectedIssuer}'");
        }

        if (!TryNumericDate(claims, "exp", required: true, out long exp) || !TryNumericDate(claims, "nbf", required: false, out long nbf)
            || !TryNumericDate(claims, "iat", required: false, out _))
        {
            return TokenValidationResult.Failure(TokenErrorCodes.ClaimsInvalid,
                $"exp is required and exp/nbf/iat must be integer NumericDates from 0 to {MaxNumericDate} (year 9999)");
        }

        DateTimeOffset now = options.TimeProvider.GetUtcNow();

        // No overflow below: exp and nbf are within 0..MaxNumericDate, now is a DateTimeOffset and the skew is at most
        // TimeSpan.MaxValue (about 9.2e11 s), so every sum stays far inside a long.
        long skew = (long)options.ClockSkew.Duration().TotalSeconds;
        long nowSeconds = now.ToUnixTimeSeconds();
        if (nowSeconds >= exp + skew)
        {
            return TokenValidationResult.Failure(TokenErrorCodes.Expired, $"the token expired at {DateTimeOffset.FromUnixTimeSeconds(exp):u}");
        }

        if (claims.TryGetProperty("nbf", out _) && nowSeconds + skew < nbf)
        {
            return TokenValidationResult.Failure(TokenErrorCodes.NotYetValid, $"the token is not valid before {DateTimeOffset.FromUnixTimeSeconds(nbf):u}");
        }

        if (options.ExpectedNonce is not null
            && (!claims.TryGetProperty("nonce", out JsonElement nonce) || nonce.ValueKind != JsonValueKind.String
                || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(nonce.GetString()!), Encoding.UTF8.GetBytes(options.ExpectedNonce))))
        {
            return TokenValidationResult.Failure(TokenErrorCodes.NonceMismatch, "the token nonce does not match the expected nonce");
        }

        if (!claims.TryGetProperty("x-ms-attestation-type", out JsonElement type) || type.ValueKind != JsonValueKind.String || type.GetString() != "sevsnpvm")
        {
            return TokenValidationResult.Failure(TokenErrorCodes.AttestationTypeMismatch, "the token is not a sevsnpvm attestation");
        }

        if (claims.TryGetProperty("x-cleanroom-simulated", out JsonElement simulated))
        {
            if (simulated.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return TokenValidationResult.Failure(TokenErrorCodes.ClaimsInvalid, "x-cleanroom-simulated must be a boolean");
            }

            if (simulated.ValueKind == JsonValueKind.True && !options.AllowSimulated)
            {
                return TokenValidationResult.Failure(TokenErrorCodes.SimulatedNotAllowed, "the token attests simulated hardware and simulation is not allowed here");
            }
        }

        var keys = new List<JsonElement>();
        if (claims.TryGetProperty("x-ms-runtime", out JsonElement runtime))
        {
            if (runtime.ValueKind != JsonValueKind.Object)
            {
                return TokenValidationResult.Failure(TokenErrorCodes.ClaimsInvalid, "x-ms-runtime must be an object");
            }

            if (runtime.TryGetProperty("keys", out JsonElement runtimeKeys))
            {
                if (runtimeKeys.ValueKind != JsonValueKind.Array || runtimeKeys.EnumerateArray().Any(k => k.ValueKind != JsonValueKind.Object))
                {
                    return TokenValidationResult.Failure(TokenErrorCodes.ClaimsInvalid, "x-ms-runtime.keys must be an array of JWK objects");
                }

                keys.AddRange(runtimeKeys.EnumerateArray().Select(k => k.Clone()));
            }
        }

        return TokenValidationResult.Success(claims.Clone(), keys);
    }

    private static RSA? FindKey(string? jwksJson, string kid, out string? error, out string errorCode)
    {
        errorCode = TokenErrorCodes.JwksInvalid;
        error = "the JWKS is not a JSON object with a keys array";
        if (string.IsNullOrEmpty(jwksJson))
        {
            return null;
        }

        using JsonDocument? jwks = ParseObject(Encoding.UTF8.GetBytes(jwksJson));
        if (jwks is null || !jwks.RootElement.TryGetProperty("keys", out JsonElement keys) || keys.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        JsonElement? match = null;
        foreach (JsonElement k in keys.EnumerateArray())
        {
            if (k.ValueKind == JsonValueKind.Object && k.TryGetProperty("kid", out JsonElement id) && id.ValueKind == JsonValueKind.String && id.GetString() == kid)
            {
                if (match is not null)
                {
                    error = "the JWKS has two keys with the token's kid";
                    return null;
                }

                match = k;
            }
        }

        if (match is not { } jwk)
        {
            errorCode = TokenErrorCodes.KeyIdUnknown;
            error = "the token's kid is not in the JWKS";
            return null;
        }

        if (!IsString(jwk, "kty", "RSA") || !IsAbsentOr(jwk, "use", "sig") || !IsAbsentOr(jwk, "alg", "RS256")
            || !jwk.TryGetProperty("n", out JsonElement n) || !Jose.TryDecode(n.ValueKind == JsonValueKind.String ? n.GetString() : null, out byte[] modulus)
            || !jwk.TryGetProperty("e", out JsonElement e) || !Jose.TryDecode(e.ValueKind == JsonValueKind.String ? e.GetString() : null, out byte[] exponent)
            || modulus.Length == 0 || modulus[0] == 0 || exponent.Length == 0)
        {
            error = "the JWKS key for this kid is not a usable RS256 signing key";
            return null;
        }

        string keyId = Convert.ToHexString(SHA256.HashData([.. modulus, .. exponent])) + ":" + exponent.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (ImportedKeys.TryGetValue(keyId, out RSA? known))
        {
            error = null;
            return known;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = exponent });
            if (rsa.KeySize < MinRsaModulusBits)
            {
                error = $"the JWKS key is shorter than {MinRsaModulusBits} bits";
                rsa.Dispose();
                return null;
            }
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            error = "the JWKS key for this kid is not a valid RSA key";
            return null;
        }

        if (ImportedKeys.Count >= MaxImportedKeys)
        {
            ImportedKeys.Clear(); // dropped, not disposed: a concurrent call may hold one (left to the GC)
        }

        error = null;
        return ImportedKeys.GetOrAdd(keyId, rsa);
    }

    private static bool TryNumericDate(JsonElement claims, string name, bool required, out long value)
    {
        value = 0;
        if (!claims.TryGetProperty(name, out JsonElement e))
        {
            return !required;
        }

        // A date DateTimeOffset cannot hold is refused here, before any arithmetic or message uses it.
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value) && value is >= 0 and <= MaxNumericDate;
    }

    private static bool IsString(JsonElement obj, string name, string expected) =>
        obj.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String && e.GetString() == expected;

    private static bool IsAbsentOr(JsonElement obj, string name, string expected) =>
        !obj.TryGetProperty(name, out _) || IsString(obj, name, expected);

    private static JsonDocument? ParseObject(byte[] utf8)
    {
        JsonDocument? doc = Jose.TryParseStrict(utf8);
        if (doc is { RootElement.ValueKind: JsonValueKind.Object })
        {
            return doc;
        }

        doc?.Dispose();
        return null;
    }

    private static string Truncate(string s) => s.Length <= 16 ? s : s[..16] + "…";
}

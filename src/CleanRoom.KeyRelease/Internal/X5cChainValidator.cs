// The x5c / x5t#S256 JWS header parameters (RFC 7515 sections 4.1.6 and 4.1.8): x5c is an array of
// standard-base64 (not base64url) DER certificates, leaf first; x5t#S256 is the base64url SHA-256
// of the leaf's DER. The chain is validated per RFC 5280 by X509Chain against the configured roots
// only (CustomRootTrust, no system store), offline: no revocation check, no AIA downloads.
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.KeyRelease.Internal;

/// <summary>Validates a JWS header's <c>x5c</c> chain and returns the leaf's RSA public key for the signature check.</summary>
internal static class X5cChainValidator
{
    /// <summary>More certificates than any real chain needs is refused before any is parsed.</summary>
    public const int MaxCertificates = 10;

    /// <summary>
    /// The leaf's RSA public key (the caller disposes it) when <paramref name="header"/> carries an
    /// <c>x5c</c> chain that builds to one of <paramref name="trustedRoots"/> at
    /// <paramref name="verificationTime"/>, a matching <c>x5t#S256</c> if present, and a leaf that may
    /// sign; otherwise a typed refusal. Does not check the JWS signature itself.
    /// </summary>
    public static KeyReleaseResult<RSA> Validate(JsonElement header, X509Certificate2Collection trustedRoots, DateTimeOffset verificationTime)
    {
        if (!header.TryGetProperty("x5c", out var x5c) || x5c.ValueKind == JsonValueKind.Null
            || (x5c.ValueKind == JsonValueKind.Array && x5c.GetArrayLength() == 0))
        {
            return Fail(KeyReleaseErrorCodes.ResponseCertificateChainMissing, "the JWS header carries no x5c certificate chain, and only chains to the configured roots are trusted.");
        }

        if (x5c.ValueKind != JsonValueKind.Array)
        {
            return Fail(KeyReleaseErrorCodes.ResponseCertificateChainMalformed, "the x5c header is not an array.");
        }

        if (x5c.GetArrayLength() > MaxCertificates)
        {
            return Fail(KeyReleaseErrorCodes.ResponseCertificateChainMalformed, $"the x5c header holds {x5c.GetArrayLength()} certificates (at most {MaxCertificates}).");
        }

        var certificates = new List<X509Certificate2>();
        try
        {
            var index = 0;
            foreach (var entry in x5c.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.String || !TryDecodeStandardBase64(entry.GetString()!, out var der))
                {
                    return Fail(KeyReleaseErrorCodes.ResponseCertificateChainMalformed, $"x5c[{index}] is not standard base64.");
                }

                if (!TryLoadCertificate(der, out var certificate))
                {
                    return Fail(KeyReleaseErrorCodes.ResponseCertificateChainMalformed, $"x5c[{index}] is not a DER X.509 certificate.");
                }

                certificates.Add(certificate);
                index++;
            }

            var leaf = certificates[0];
            if (header.TryGetProperty("x5t#S256", out var x5t)
                && (x5t.ValueKind != JsonValueKind.String
                    || !string.Equals(x5t.GetString(), Base64UrlCodec.Encode(SHA256.HashData(leaf.RawData)), StringComparison.Ordinal)))
            {
                return Fail(KeyReleaseErrorCodes.ResponseCertificateThumbprintMismatch, "x5t#S256 is not the SHA-256 thumbprint of the x5c leaf certificate.");
            }

            if (BuildChain(leaf, certificates, trustedRoots, verificationTime) is { } chainFailure)
            {
                return chainFailure;
            }

            if (leaf.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage
                && (usage.KeyUsages & X509KeyUsageFlags.DigitalSignature) == 0)
            {
                return Fail(KeyReleaseErrorCodes.ResponseCertificateNotForSigning, "the x5c leaf certificate's key usage does not allow digitalSignature.");
            }

            RSA? key;
            try
            {
                key = leaf.GetRSAPublicKey();
            }
            catch (CryptographicException)
            {
                key = null;
            }

            if (key is null || key.KeySize < KeyReleaseSignerTrust.MinimumRsaKeySize)
            {
                key?.Dispose();
                return Fail(KeyReleaseErrorCodes.ResponseCertificateNotForSigning, $"the x5c leaf certificate's key is not RSA of at least {KeyReleaseSignerTrust.MinimumRsaKeySize} bits.");
            }

            return KeyReleaseResult<RSA>.Success(key);
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    private static KeyReleaseResult<RSA>? BuildChain(X509Certificate2 leaf, List<X509Certificate2> certificates, X509Certificate2Collection trustedRoots, DateTimeOffset verificationTime)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(trustedRoots);
        policy.ExtraStore.AddRange(certificates.Skip(1).ToArray());

        // The enclave is offline: no CRL/OCSP and no AIA fetches (SECURITY.md names this limit).
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = verificationTime.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        try
        {
            bool built;
            try
            {
                built = chain.Build(leaf);
            }
            catch (CryptographicException)
            {
                return Fail(KeyReleaseErrorCodes.ResponseCertificateChainUntrusted, "the x5c chain cannot be evaluated (a certificate is unreadable).");
            }

            if (built)
            {
                return null;
            }

            var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, status) => all | status.Status);
            if ((flags & ~X509ChainStatusFlags.NotTimeValid) != X509ChainStatusFlags.NoError)
            {
                return Fail(KeyReleaseErrorCodes.ResponseCertificateChainUntrusted,
                    $"the x5c chain does not build to a configured trusted root ({flags & ~X509ChainStatusFlags.NotTimeValid}).");
            }

            return Fail(KeyReleaseErrorCodes.ResponseCertificateNotTimeValid, DescribeTimeFailure(chain, verificationTime));
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    private static string DescribeTimeFailure(X509Chain chain, DateTimeOffset verificationTime)
    {
        for (var i = 0; i < chain.ChainElements.Count; i++)
        {
            var certificate = chain.ChainElements[i].Certificate;
            var role = i == 0 ? "leaf" : i == chain.ChainElements.Count - 1 ? "root" : "intermediate";
            var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            if (verificationTime > notAfter)
            {
                return $"the x5c {role} certificate expired at {notAfter:u}.";
            }

            if (verificationTime < notBefore)
            {
                return $"the x5c {role} certificate is not valid before {notBefore:u}.";
            }
        }

        return "a certificate of the x5c chain is outside its validity period.";
    }

    private static bool TryDecodeStandardBase64(string text, out byte[] data)
    {
        data = [];
        if (text.Length == 0 || text.Any(char.IsWhiteSpace) || !Base64.IsValid(text))
        {
            return false;
        }

        data = Convert.FromBase64String(text);
        return true;
    }

    private static bool TryLoadCertificate(byte[] der, out X509Certificate2 certificate)
    {
        certificate = null!;
        if (der.Length == 0 || der[0] != 0x30)
        {
            return false;
        }

        try
        {
            certificate = X509CertificateLoader.LoadCertificate(der);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static KeyReleaseResult<RSA> Fail(string code, string why) =>
        KeyReleaseResult<RSA>.Failure(code, "Release response refused: " + why);
}

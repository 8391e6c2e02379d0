// Who may sign a key release response (RFC 7515 JWS, RS256 = RSASSA-PKCS1-v1_5 with SHA-256,
// RSA keys of at least 2048 bits): a pinned public key, and/or the roots to which the JWS header's
// x5c certificate chain (RFC 7515 section 4.1.6) must validate (RFC 5280 path validation by X509Chain).
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.KeyRelease;

/// <summary>
/// The signers a release response is accepted from, for <see cref="KeyReleaseResponse.Verify(string, KeyReleaseSignerTrust, string?, DateTimeOffset)"/>.
/// With only a pinned key, the JWS must verify under it; with only trusted roots, under the leaf of an
/// <c>x5c</c> chain that builds to one of them; with both, both must hold (the leaf's key is the pinned
/// key). Owns its key and certificates: dispose it.
/// </summary>
public sealed class KeyReleaseSignerTrust : IDisposable
{
    /// <summary>The smallest RSA modulus accepted for a signer, pinned or certified.</summary>
    public const int MinimumRsaKeySize = 2048;

    private KeyReleaseSignerTrust(RSA? pinnedSigner, X509Certificate2Collection trustedRoots)
    {
        PinnedSigner = pinnedSigner;
        TrustedRoots = trustedRoots;
    }

    /// <summary>The pinned signer's public key; null when none is pinned.</summary>
    public RSA? PinnedSigner { get; }

    /// <summary>The only roots an <c>x5c</c> chain may build to (never the system store); empty when chains are not accepted.</summary>
    public X509Certificate2Collection TrustedRoots { get; }

    /// <summary>True when release responses must carry an <c>x5c</c> chain to <see cref="TrustedRoots"/>.</summary>
    public bool RequiresCertificateChain => TrustedRoots.Count > 0;

    /// <summary>
    /// Builds the trust from PEM text: <paramref name="pinnedSignerPem"/> is an RSA public key
    /// (<c>PUBLIC KEY</c> / <c>RSA PUBLIC KEY</c>) or a <c>CERTIFICATE</c> whose key is pinned;
    /// <paramref name="trustedRootsPem"/> is a bundle of <c>CERTIFICATE</c> blocks (other blocks are
    /// ignored). At least one must be given. Failures are typed, never exceptions.
    /// </summary>
    public static KeyReleaseResult<KeyReleaseSignerTrust> FromPem(string? pinnedSignerPem, string? trustedRootsPem)
    {
        if (pinnedSignerPem is null && trustedRootsPem is null)
        {
            return Invalid("no signer key is pinned and no trusted root is configured.");
        }

        RSA? pinned = null;
        if (pinnedSignerPem is not null && !TryImportSigner(pinnedSignerPem, out pinned))
        {
            return Invalid($"the pinned signer is not an RSA public key or certificate of at least {MinimumRsaKeySize} bits.");
        }

        var roots = new X509Certificate2Collection();
        if (trustedRootsPem is not null)
        {
            try
            {
                roots.ImportFromPem(trustedRootsPem);
            }
            catch (CryptographicException)
            {
                roots.Clear();
            }

            if (roots.Count == 0)
            {
                DisposeAll(roots);
                pinned?.Dispose();
                return Invalid("the trusted roots bundle holds no readable PEM certificate.");
            }
        }

        return KeyReleaseResult<KeyReleaseSignerTrust>.Success(new KeyReleaseSignerTrust(pinned, roots));
    }

    /// <summary>Disposes the pinned key and the root certificates.</summary>
    public void Dispose()
    {
        PinnedSigner?.Dispose();
        DisposeAll(TrustedRoots);
        TrustedRoots.Clear();
    }

    private static bool TryImportSigner(string pem, out RSA? key)
    {
        key = null;
        try
        {
            if (pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                using var certificate = X509Certificate2.CreateFromPem(pem);
                key = certificate.GetRSAPublicKey();
            }
            else
            {
                key = RSA.Create();
                key.ImportFromPem(pem);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key?.Dispose();
            key = null;
        }

        if (key is { KeySize: < MinimumRsaKeySize })
        {
            key.Dispose();
            key = null;
        }

        return key is not null;
    }

    private static void DisposeAll(X509Certificate2Collection certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }

    private static KeyReleaseResult<KeyReleaseSignerTrust> Invalid(string why) =>
        KeyReleaseResult<KeyReleaseSignerTrust>.Failure(KeyReleaseErrorCodes.SignerTrustInvalid, "Release signer trust refused: " + why);
}

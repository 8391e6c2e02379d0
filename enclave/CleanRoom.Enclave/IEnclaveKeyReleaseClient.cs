using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>Key Vault Secure Key Release (local broker or Azure Key Vault / Managed HSM); returns the release JWS.</summary>
internal interface IEnclaveKeyReleaseClient
{
    bool IsLocal { get; }

    Task<string> ReleaseAsync(string name, string version, string attestationToken, string nonce, CancellationToken cancellationToken);

    /// <summary>
    /// The signers a release response must come from (a pinned key and/or trusted roots for its x5c
    /// chain); the caller owns and disposes it. Each client answers for its own service, so a response
    /// is never checked against another service's key. Throws <see cref="JobRefusalException"/> when
    /// no signer can be trusted.
    /// </summary>
    Task<KeyReleaseSignerTrust> SignerTrustAsync(CancellationToken cancellationToken);
}

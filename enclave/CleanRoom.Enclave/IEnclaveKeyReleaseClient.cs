namespace CleanRoom.Enclave;

/// <summary>Key Vault Secure Key Release (local broker or Azure Key Vault / Managed HSM); returns the release JWS.</summary>
internal interface IEnclaveKeyReleaseClient
{
    bool IsLocal { get; }

    Task<string> ReleaseAsync(string name, string version, string attestationToken, string nonce, CancellationToken cancellationToken);

    /// <summary>
    /// The public key (PEM) that must have signed the release response. Each client answers for its own
    /// service, so a response is never checked against another service's key.
    /// </summary>
    Task<string> SignerPublicKeyPemAsync(CancellationToken cancellationToken);
}

namespace CleanRoom.Enclave;

/// <summary>Exchanges evidence for an MAA-shaped token (local authority or Azure Attestation).</summary>
internal interface IEnclaveAttestationClient
{
    /// <summary>True when this is the server's local (simulated-mode) authority.</summary>
    bool IsLocal { get; }

    Task<string> AttestAsync(AttestationEvidence evidence, byte[] runtimeData, string nonce, CancellationToken cancellationToken);

    /// <summary>The authority's token signing keys (its <c>/certs</c> JWKS document).</summary>
    Task<string> GetJwksAsync(CancellationToken cancellationToken);
}

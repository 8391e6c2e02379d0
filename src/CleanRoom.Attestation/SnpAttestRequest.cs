namespace CleanRoom.Attestation;

/// <summary>
/// Evidence for <see cref="AttestationAuthority.Attest"/>, the decoded form of an MAA
/// <c>POST /attest/SevSnpVm</c> body.
/// </summary>
public sealed class SnpAttestRequest
{
    /// <summary>The 1184-byte ATTESTATION_REPORT.</summary>
    public required byte[] Report { get; init; }

    /// <summary>PEM certificates VCEK, ASK, ARK (MAA "VcekCertChain").</summary>
    public required string VcekCertChainPem { get; init; }

    /// <summary>The runtime data (UTF-8 JSON object, typically {"keys":[JWK…]}) whose SHA-256 is in REPORT_DATA.</summary>
    public required byte[] RuntimeData { get; init; }

    /// <summary>Echoed as the token's <c>nonce</c> claim.</summary>
    public string? Nonce { get; init; }
}

namespace CleanRoom.Enclave;

/// <summary>Hardware evidence: an SEV-SNP ATTESTATION_REPORT (1184 bytes) and its VCEK, ASK, ARK chain as PEM.</summary>
internal sealed record AttestationEvidence(byte[] Report, string VcekCertChainPem);

namespace CleanRoom.Attestation;

/// <summary>The SIGNING_KEY field of the report's signer info (bits 2–4 at 0x048).</summary>
public enum SnpSigningKey
{
    Vcek = 0,
    Vlek = 1,
    None = 7,
}

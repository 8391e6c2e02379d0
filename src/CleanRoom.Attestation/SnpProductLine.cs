namespace CleanRoom.Attestation;

/// <summary>AMD EPYC product lines with SEV-SNP, as named in VCEK certificates and the KDS.</summary>
public enum SnpProductLine
{
    Unknown = 0,
    Milan = 1,
    Genoa = 2,
    Turin = 3,
}

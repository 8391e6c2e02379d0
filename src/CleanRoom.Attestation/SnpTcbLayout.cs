namespace CleanRoom.Attestation;

/// <summary>How the 64-bit TCB_VERSION is split into SPLs (AMD SEV-SNP ABI spec 56860, TCB_VERSION).</summary>
public enum SnpTcbLayout
{
    /// <summary>Not yet known: a version-2 report before the VCEK's product name has been seen.</summary>
    Unknown = 0,

    /// <summary>Milan and Genoa: byte0 bootloader, byte1 TEE, bytes 2–5 reserved, byte6 SNP, byte7 microcode.</summary>
    MilanGenoa = 1,

    /// <summary>Turin: byte0 FMC, byte1 bootloader, byte2 TEE, byte3 SNP, bytes 4–6 reserved, byte7 microcode.</summary>
    Turin = 2,
}

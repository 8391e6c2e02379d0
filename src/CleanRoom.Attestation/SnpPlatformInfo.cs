namespace CleanRoom.Attestation;

/// <summary>
/// PLATFORM_INFO (AMD spec 56860, Table 21): bit0 SMT enabled, 1 TSME, 2 ECC, 3 RAPL disabled,
/// 4 ciphertext hiding, 5 alias check complete, 7 TIO.
/// </summary>
public readonly record struct SnpPlatformInfo(ulong Raw)
{
    public bool SmtEnabled => (Raw & 1) != 0;
    public bool TsmeEnabled => (Raw & 2) != 0;
    public bool EccEnabled => (Raw & 4) != 0;
    public bool RaplDisabled => (Raw & 8) != 0;
    public bool CiphertextHidingEnabled => (Raw & 0x10) != 0;
    public bool AliasCheckComplete => (Raw & 0x20) != 0;
    public bool TioEnabled => (Raw & 0x80) != 0;
}

namespace CleanRoom.Attestation;

/// <summary>
/// The guest POLICY field (AMD spec 56860, Table 9 "GUEST_POLICY"): bits 0–7 ABI minor,
/// 8–15 ABI major, 16 SMT, 17 reserved (must be 1), 18 MIGRATE_MA, 19 DEBUG, 20 SINGLE_SOCKET,
/// 21 CXL_ALLOW, 22 MEM_AES_256_XTS, 23 RAPL_DIS, 24 CIPHERTEXT_HIDING, 25 PAGE_SWAP_DISABLE.
/// </summary>
public readonly record struct SnpGuestPolicy(ulong Raw)
{
    public const ulong SmtBit = 1UL << 16;
    public const ulong ReservedMustBeOneBit = 1UL << 17;
    public const ulong MigrateMaBit = 1UL << 18;
    public const ulong DebugBit = 1UL << 19;
    public const ulong SingleSocketBit = 1UL << 20;
    public const ulong CxlAllowBit = 1UL << 21;
    public const ulong MemAes256XtsBit = 1UL << 22;
    public const ulong RaplDisBit = 1UL << 23;
    public const ulong CiphertextHidingBit = 1UL << 24;
    public const ulong PageSwapDisableBit = 1UL << 25;

    /// <summary>Bits 26–63 have no meaning in the current spec; a policy may refuse them.</summary>
    public const ulong UndefinedBitsMask = ~((1UL << 26) - 1);

    /// <summary>The default for simulated guests: reserved bit set, SMT allowed, debug and migration off.</summary>
    public const ulong DefaultSimulated = ReservedMustBeOneBit | SmtBit;

    public byte AbiMinor => (byte)Raw;
    public byte AbiMajor => (byte)(Raw >> 8);
    public bool SmtAllowed => (Raw & SmtBit) != 0;
    public bool ReservedBitSet => (Raw & ReservedMustBeOneBit) != 0;
    public bool MigrateMa => (Raw & MigrateMaBit) != 0;
    public bool Debug => (Raw & DebugBit) != 0;
    public bool SingleSocket => (Raw & SingleSocketBit) != 0;
    public bool CxlAllowed => (Raw & CxlAllowBit) != 0;
    public bool MemAes256Xts => (Raw & MemAes256XtsBit) != 0;
    public bool RaplDisabled => (Raw & RaplDisBit) != 0;
    public bool CiphertextHiding => (Raw & CiphertextHidingBit) != 0;
    public bool PageSwapDisabled => (Raw & PageSwapDisableBit) != 0;
    public bool HasUndefinedBits => (Raw & UndefinedBitsMask) != 0;
}

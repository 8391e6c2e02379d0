namespace CleanRoom.Attestation;

/// <summary>
/// A decoded TCB_VERSION (AMD spec 56860): the raw little-endian u64 plus its security
/// patch levels under a given layout. Under <see cref="SnpTcbLayout.Unknown"/> the SPLs are 0
/// and must not be used for decisions.
/// </summary>
public readonly record struct SnpTcb(ulong Raw, SnpTcbLayout Layout, byte Bootloader, byte Tee, byte Snp, byte Microcode, byte? Fmc)
{
    public static SnpTcb Decode(ulong raw, SnpTcbLayout layout) => layout switch
    {
        SnpTcbLayout.MilanGenoa => new SnpTcb(raw, layout, Byte(raw, 0), Byte(raw, 1), Byte(raw, 6), Byte(raw, 7), null),
        SnpTcbLayout.Turin => new SnpTcb(raw, layout, Byte(raw, 1), Byte(raw, 2), Byte(raw, 3), Byte(raw, 7), Byte(raw, 0)),
        _ => new SnpTcb(raw, SnpTcbLayout.Unknown, 0, 0, 0, 0, null),
    };

    public static ulong EncodeMilanGenoa(byte bootloader, byte tee, byte snp, byte microcode) =>
        bootloader | ((ulong)tee << 8) | ((ulong)snp << 48) | ((ulong)microcode << 56);

    public static ulong EncodeTurin(byte fmc, byte bootloader, byte tee, byte snp, byte microcode) =>
        fmc | ((ulong)bootloader << 8) | ((ulong)tee << 16) | ((ulong)snp << 24) | ((ulong)microcode << 56);

    /// <summary>True when the bytes the layout reserves are zero (always false for an unknown layout).</summary>
    public bool ReservedBytesAreZero => Layout switch
    {
        SnpTcbLayout.MilanGenoa => (Raw & 0x0000_FFFF_FFFF_0000UL) == 0,
        SnpTcbLayout.Turin => (Raw & 0x00FF_FFFF_0000_0000UL) == 0,
        _ => false,
    };

    public override string ToString() => Layout switch
    {
        SnpTcbLayout.MilanGenoa => $"bootloader={Bootloader} tee={Tee} snp={Snp} microcode={Microcode} (0x{Raw:x16})",
        SnpTcbLayout.Turin => $"fmc={Fmc} bootloader={Bootloader} tee={Tee} snp={Snp} microcode={Microcode} (0x{Raw:x16})",
        _ => $"0x{Raw:x16} (layout unknown)",
    };

    private static byte Byte(ulong raw, int index) => (byte)(raw >> (8 * index));
}

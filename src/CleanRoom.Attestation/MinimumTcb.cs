namespace CleanRoom.Attestation;

/// <summary>Minimum security patch levels; <see cref="Fmc"/> applies to Turin only.</summary>
public sealed record MinimumTcb(byte Bootloader, byte Tee, byte Snp, byte Microcode, byte Fmc = 0)
{
    /// <summary>True when every SPL of <paramref name="tcb"/> (under a known layout) is at least the minimum.</summary>
    public bool IsSatisfiedBy(SnpTcb tcb) =>
        tcb.Layout != SnpTcbLayout.Unknown
        && tcb.Bootloader >= Bootloader
        && tcb.Tee >= Tee
        && tcb.Snp >= Snp
        && tcb.Microcode >= Microcode
        && (tcb.Layout != SnpTcbLayout.Turin || (tcb.Fmc ?? 0) >= Fmc);
}

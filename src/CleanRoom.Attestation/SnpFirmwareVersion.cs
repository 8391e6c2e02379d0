namespace CleanRoom.Attestation;

/// <summary>An SEV-SNP firmware version as reported at 0x1E8/0x1EC (build, minor, major).</summary>
public readonly record struct SnpFirmwareVersion(byte Major, byte Minor, byte Build)
{
    public override string ToString() => $"{Major}.{Minor}.{Build}";
}

namespace CleanRoom.Attestation.Internal;

/// <summary>Byte offsets of ATTESTATION_REPORT (AMD SEV-SNP ABI spec 56860, Table 21/23). 1184 bytes, little-endian.</summary>
internal static class SnpReportOffsets
{
    public const int ReportLength = 0x4A0;
    public const int SignedLength = 0x2A0;

    public const int Version = 0x000;
    public const int GuestSvn = 0x004;
    public const int Policy = 0x008;
    public const int FamilyId = 0x010;
    public const int ImageId = 0x020;
    public const int Vmpl = 0x030;
    public const int SignatureAlgo = 0x034;
    public const int CurrentTcb = 0x038;
    public const int PlatformInfo = 0x040;
    public const int SignerInfo = 0x048;
    public const int Reserved1 = 0x04C; // 4 bytes
    public const int ReportData = 0x050;
    public const int Measurement = 0x090;
    public const int HostData = 0x0C0;
    public const int IdKeyDigest = 0x0E0;
    public const int AuthorKeyDigest = 0x110;
    public const int ReportId = 0x140;
    public const int ReportIdMa = 0x160;
    public const int ReportedTcb = 0x180;
    public const int CpuidFamily = 0x188; // v3+
    public const int CpuidModel = 0x189;
    public const int CpuidStepping = 0x18A;
    public const int Reserved2End = 0x1A0; // reserved from 0x18B (v3+) or 0x188 (v2) up to here
    public const int ChipId = 0x1A0;
    public const int CommittedTcb = 0x1E0;
    public const int CurrentBuild = 0x1E8; // build, minor, major, reserved
    public const int CommittedBuild = 0x1EC; // build, minor, major, reserved
    public const int LaunchTcb = 0x1F0;
    public const int LaunchMitVector = 0x1F8; // v5
    public const int CurrentMitVector = 0x200; // v5
    public const int Signature = 0x2A0;
    public const int SignatureR = 0x2A0;
    public const int SignatureS = 0x2E8;
    public const int SignatureComponentLength = 72;
    public const int SignatureReserved = 0x330; // to end of report

    public const int ReportDataLength = 64;
    public const int MeasurementLength = 48;
    public const int HostDataLength = 32;
    public const int DigestLength = 48;
    public const int ReportIdLength = 32;
    public const int ChipIdLength = 64;
    public const int IdLength = 16;

    public const uint SignatureAlgoEcdsaP384Sha384 = 1;
    public const uint MinVersion = 2;
    public const uint MaxVersion = 5;
}

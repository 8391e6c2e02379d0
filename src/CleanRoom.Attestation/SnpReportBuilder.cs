// AMD SEV-SNP ABI specification (pub. 56860), Table 21/23 "ATTESTATION_REPORT Structure":
// writes the exact 1184-byte layout and an ECDSA P-384/SHA-384 signature over 0x000–0x29F
// (R and S as 72-byte little-endian fields).
using System.Buffers.Binary;
using System.Security.Cryptography;
using O = CleanRoom.Attestation.Internal.SnpReportOffsets;

namespace CleanRoom.Attestation;

/// <summary>
/// Writes SEV-SNP attestation reports in the hardware layout. Used by the simulator and by
/// tests that need precisely shaped (or precisely broken) evidence.
/// </summary>
public sealed class SnpReportBuilder
{
    public uint Version { get; set; } = 3;
    public uint GuestSvn { get; set; }
    public ulong Policy { get; set; } = SnpGuestPolicy.DefaultSimulated;
    public byte[] FamilyId { get; set; } = new byte[O.IdLength];
    public byte[] ImageId { get; set; } = new byte[O.IdLength];
    public uint Vmpl { get; set; }
    public uint SignatureAlgorithm { get; set; } = O.SignatureAlgoEcdsaP384Sha384;
    public ulong CurrentTcb { get; set; }
    public ulong PlatformInfo { get; set; } = 1;
    public bool AuthorKeyEnabled { get; set; }
    public bool MaskChipKey { get; set; }
    public SnpSigningKey SigningKey { get; set; } = SnpSigningKey.Vcek;
    public byte[] ReportData { get; set; } = new byte[O.ReportDataLength];
    public byte[] Measurement { get; set; } = new byte[O.MeasurementLength];
    public byte[] HostData { get; set; } = new byte[O.HostDataLength];
    public byte[] IdKeyDigest { get; set; } = new byte[O.DigestLength];
    public byte[] AuthorKeyDigest { get; set; } = new byte[O.DigestLength];
    public byte[] ReportId { get; set; } = new byte[O.ReportIdLength];
    public byte[] ReportIdMa { get; set; } = Enumerable.Repeat((byte)0xFF, O.ReportIdLength).ToArray();
    public ulong ReportedTcb { get; set; }

    /// <summary>Written for version 3 and later. Defaults are Milan (family 0x19, model 0x01).</summary>
    public byte CpuidFamily { get; set; } = 0x19;
    public byte CpuidModel { get; set; } = 0x01;
    public byte CpuidStepping { get; set; } = 0x01;
    public byte[] ChipId { get; set; } = new byte[O.ChipIdLength];
    public ulong CommittedTcb { get; set; }
    public SnpFirmwareVersion CurrentVersion { get; set; } = new(1, 55, 21);
    public SnpFirmwareVersion CommittedVersion { get; set; } = new(1, 55, 21);
    public ulong LaunchTcb { get; set; }

    /// <summary>Written for version 5 only.</summary>
    public ulong LaunchMitVector { get; set; }
    public ulong CurrentMitVector { get; set; }

    /// <summary>Sets all four TCB fields to the same value, as on a platform that has not been updated since launch.</summary>
    public SnpReportBuilder WithTcb(ulong tcb)
    {
        CurrentTcb = ReportedTcb = CommittedTcb = LaunchTcb = tcb;
        return this;
    }

    /// <summary>The report with a zero signature field.</summary>
    public byte[] BuildUnsigned()
    {
        var r = new byte[O.ReportLength];
        Span<byte> s = r;
        BinaryPrimitives.WriteUInt32LittleEndian(s[O.Version..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(s[O.GuestSvn..], GuestSvn);
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.Policy..], Policy);
        Copy(FamilyId, s, O.FamilyId, O.IdLength, nameof(FamilyId));
        Copy(ImageId, s, O.ImageId, O.IdLength, nameof(ImageId));
        BinaryPrimitives.WriteUInt32LittleEndian(s[O.Vmpl..], Vmpl);
        BinaryPrimitives.WriteUInt32LittleEndian(s[O.SignatureAlgo..], SignatureAlgorithm);
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.CurrentTcb..], CurrentTcb);
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.PlatformInfo..], PlatformInfo);
        uint signer = (AuthorKeyEnabled ? 1u : 0u) | (MaskChipKey ? 2u : 0u) | (((uint)SigningKey & 7) << 2);
        BinaryPrimitives.WriteUInt32LittleEndian(s[O.SignerInfo..], signer);
        Copy(ReportData, s, O.ReportData, O.ReportDataLength, nameof(ReportData));
        Copy(Measurement, s, O.Measurement, O.MeasurementLength, nameof(Measurement));
        Copy(HostData, s, O.HostData, O.HostDataLength, nameof(HostData));
        Copy(IdKeyDigest, s, O.IdKeyDigest, O.DigestLength, nameof(IdKeyDigest));
        Copy(AuthorKeyDigest, s, O.AuthorKeyDigest, O.DigestLength, nameof(AuthorKeyDigest));
        Copy(ReportId, s, O.ReportId, O.ReportIdLength, nameof(ReportId));
        Copy(ReportIdMa, s, O.ReportIdMa, O.ReportIdLength, nameof(ReportIdMa));
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.ReportedTcb..], ReportedTcb);
        if (Version >= 3)
        {
            s[O.CpuidFamily] = CpuidFamily;
            s[O.CpuidModel] = CpuidModel;
            s[O.CpuidStepping] = CpuidStepping;
        }

        Copy(ChipId, s, O.ChipId, O.ChipIdLength, nameof(ChipId));
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.CommittedTcb..], CommittedTcb);
        WriteVersion(s, O.CurrentBuild, CurrentVersion);
        WriteVersion(s, O.CommittedBuild, CommittedVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(s[O.LaunchTcb..], LaunchTcb);
        if (Version >= 5)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[O.LaunchMitVector..], LaunchMitVector);
            BinaryPrimitives.WriteUInt64LittleEndian(s[O.CurrentMitVector..], CurrentMitVector);
        }

        return r;
    }

    /// <summary>The report signed with <paramref name="vcek"/> (must be a P-384 key).</summary>
    public byte[] BuildSigned(ECDsa vcek)
    {
        ArgumentNullException.ThrowIfNull(vcek);
        if (vcek.KeySize != 384)
        {
            throw new ArgumentException("the VCEK must be an ECDSA P-384 key", nameof(vcek));
        }

        byte[] report = BuildUnsigned();
        Sign(report, vcek);
        return report;
    }

    /// <summary>(Re)signs a report in place: ECDSA P-384/SHA-384 over 0x000–0x29F.</summary>
    public static void Sign(Span<byte> report, ECDsa vcek)
    {
        ArgumentNullException.ThrowIfNull(vcek);
        if (report.Length != O.ReportLength)
        {
            throw new ArgumentException($"a report is {O.ReportLength} bytes", nameof(report));
        }

        byte[] p1363 = vcek.SignData(report[..O.SignedLength], HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        report[O.Signature..].Clear();
        WriteLittleEndianComponent(p1363.AsSpan(0, 48), report.Slice(O.SignatureR, O.SignatureComponentLength));
        WriteLittleEndianComponent(p1363.AsSpan(48, 48), report.Slice(O.SignatureS, O.SignatureComponentLength));
    }

    private static void WriteLittleEndianComponent(ReadOnlySpan<byte> bigEndian, Span<byte> field)
    {
        bigEndian.CopyTo(field);
        field[..bigEndian.Length].Reverse();
    }

    private static void WriteVersion(Span<byte> s, int offset, SnpFirmwareVersion v)
    {
        s[offset] = v.Build;
        s[offset + 1] = v.Minor;
        s[offset + 2] = v.Major;
    }

    private static void Copy(byte[] value, Span<byte> report, int offset, int length, string name)
    {
        if (value is null || value.Length != length)
        {
            throw new InvalidOperationException($"{name} must be {length} bytes");
        }

        value.CopyTo(report.Slice(offset, length));
    }
}

// AMD SEV-SNP ABI specification (pub. 56860), Table 21/23 "ATTESTATION_REPORT Structure":
// 1184 bytes, little-endian, versions 2–5; signature (ECDSA P-384 with SHA-384) over 0x000–0x29F.
using System.Buffers.Binary;
using CleanRoom.Attestation.Internal;
using O = CleanRoom.Attestation.Internal.SnpReportOffsets;

namespace CleanRoom.Attestation;

/// <summary>
/// A parsed, structurally valid SEV-SNP attestation report. Parsing says nothing about who
/// signed it: use <see cref="SnpVerifier"/> for that.
/// </summary>
public sealed class SnpReport
{
    private readonly byte[] _raw;

    private SnpReport(byte[] raw, SnpProductLine productLine)
    {
        _raw = raw;
        ReadOnlySpan<byte> r = raw;
        Version = U32(r, O.Version);
        GuestSvn = U32(r, O.GuestSvn);
        Policy = new SnpGuestPolicy(U64(r, O.Policy));
        Vmpl = U32(r, O.Vmpl);
        SignatureAlgorithm = U32(r, O.SignatureAlgo);
        PlatformInfo = new SnpPlatformInfo(U64(r, O.PlatformInfo));
        uint signer = U32(r, O.SignerInfo);
        AuthorKeyEnabled = (signer & 1) != 0;
        MaskChipKey = (signer & 2) != 0;
        SigningKey = (SnpSigningKey)((signer >> 2) & 7);
        if (Version >= 3)
        {
            CpuidFamily = r[O.CpuidFamily];
            CpuidModel = r[O.CpuidModel];
            CpuidStepping = r[O.CpuidStepping];
        }

        CurrentVersion = new SnpFirmwareVersion(r[O.CurrentBuild + 2], r[O.CurrentBuild + 1], r[O.CurrentBuild]);
        CommittedVersion = new SnpFirmwareVersion(r[O.CommittedBuild + 2], r[O.CommittedBuild + 1], r[O.CommittedBuild]);
        if (Version >= 5)
        {
            LaunchMitVector = U64(r, O.LaunchMitVector);
            CurrentMitVector = U64(r, O.CurrentMitVector);
        }

        ProductLine = productLine;
        TcbLayout = LayoutOf(productLine);
        CurrentTcb = SnpTcb.Decode(U64(r, O.CurrentTcb), TcbLayout);
        ReportedTcb = SnpTcb.Decode(U64(r, O.ReportedTcb), TcbLayout);
        CommittedTcb = SnpTcb.Decode(U64(r, O.CommittedTcb), TcbLayout);
        LaunchTcb = SnpTcb.Decode(U64(r, O.LaunchTcb), TcbLayout);
    }

    public uint Version { get; }
    public uint GuestSvn { get; }
    public SnpGuestPolicy Policy { get; }
    public ReadOnlyMemory<byte> FamilyId => Slice(O.FamilyId, O.IdLength);
    public ReadOnlyMemory<byte> ImageId => Slice(O.ImageId, O.IdLength);
    public uint Vmpl { get; }
    public uint SignatureAlgorithm { get; }
    public SnpTcb CurrentTcb { get; }
    public SnpPlatformInfo PlatformInfo { get; }
    public bool AuthorKeyEnabled { get; }
    public bool MaskChipKey { get; }
    public SnpSigningKey SigningKey { get; }
    public ReadOnlyMemory<byte> ReportData => Slice(O.ReportData, O.ReportDataLength);
    public ReadOnlyMemory<byte> Measurement => Slice(O.Measurement, O.MeasurementLength);
    public ReadOnlyMemory<byte> HostData => Slice(O.HostData, O.HostDataLength);
    public ReadOnlyMemory<byte> IdKeyDigest => Slice(O.IdKeyDigest, O.DigestLength);
    public ReadOnlyMemory<byte> AuthorKeyDigest => Slice(O.AuthorKeyDigest, O.DigestLength);
    public ReadOnlyMemory<byte> ReportId => Slice(O.ReportId, O.ReportIdLength);
    public ReadOnlyMemory<byte> ReportIdMa => Slice(O.ReportIdMa, O.ReportIdLength);
    public SnpTcb ReportedTcb { get; }

    /// <summary>CPUID family (combined extended family + family); present from version 3.</summary>
    public byte? CpuidFamily { get; }
    public byte? CpuidModel { get; }
    public byte? CpuidStepping { get; }
    public ReadOnlyMemory<byte> ChipId => Slice(O.ChipId, O.ChipIdLength);
    public SnpTcb CommittedTcb { get; }
    public SnpFirmwareVersion CurrentVersion { get; }
    public SnpFirmwareVersion CommittedVersion { get; }
    public SnpTcb LaunchTcb { get; }

    /// <summary>Present from version 5.</summary>
    public ulong? LaunchMitVector { get; }
    public ulong? CurrentMitVector { get; }

    /// <summary>The 512-byte signature field as carried in the report (R and S little-endian, 72 bytes each).</summary>
    public ReadOnlyMemory<byte> Signature => Slice(O.Signature, O.ReportLength - O.Signature);

    /// <summary>The signed region, bytes 0x000–0x29F.</summary>
    public ReadOnlyMemory<byte> SignedBytes => Slice(0, O.SignedLength);

    /// <summary>The whole 1184-byte report.</summary>
    public ReadOnlyMemory<byte> Raw => _raw;

    /// <summary>Product line from CPUID (v3+) or, for v2, from the VCEK once verified; otherwise unknown.</summary>
    public SnpProductLine ProductLine { get; }

    public SnpTcbLayout TcbLayout { get; }

    /// <summary>Parses and structurally checks a report. Never throws for malformed input.</summary>
    public static SnpParseResult Parse(ReadOnlySpan<byte> report)
    {
        if (report.Length != O.ReportLength)
        {
            return SnpParseResult.Failure(SnpErrorCodes.ReportWrongLength, $"report is {report.Length} bytes, expected {O.ReportLength}");
        }

        uint version = U32(report, O.Version);
        if (version is < O.MinVersion or > O.MaxVersion)
        {
            return SnpParseResult.Failure(SnpErrorCodes.UnsupportedVersion, $"report version {version} is not supported (2–5)");
        }

        uint algo = U32(report, O.SignatureAlgo);
        if (algo != O.SignatureAlgoEcdsaP384Sha384)
        {
            return SnpParseResult.Failure(SnpErrorCodes.UnsupportedSignatureAlgorithm, $"signature algorithm {algo} is not ECDSA P-384/SHA-384 (1)");
        }

        ulong policy = U64(report, O.Policy);
        if ((policy & SnpGuestPolicy.ReservedMustBeOneBit) == 0)
        {
            return SnpParseResult.Failure(SnpErrorCodes.PolicyReservedBitClear, "guest policy bit 17 (reserved, must be 1) is clear");
        }

        uint vmpl = U32(report, O.Vmpl);
        if (vmpl > 3)
        {
            return SnpParseResult.Failure(SnpErrorCodes.FieldOutOfRange, $"VMPL {vmpl} is out of range (0–3)");
        }

        uint signer = U32(report, O.SignerInfo);
        if ((signer & ~0x1Fu) != 0)
        {
            return ReservedFailure("signer info bits 5–31");
        }

        uint signingKey = (signer >> 2) & 7;
        if (signingKey is not (0 or 1 or 7))
        {
            return SnpParseResult.Failure(SnpErrorCodes.FieldOutOfRange, $"signing key selector {signingKey} is reserved");
        }

        int reserved2Start = version >= 3 ? O.CpuidStepping + 1 : O.CpuidFamily;
        int reserved3Start = version >= 5 ? O.CurrentMitVector + 8 : O.LaunchMitVector;
        if (!IsZero(report, O.Reserved1, 4, out string? where)
            || !IsZero(report, reserved2Start, O.Reserved2End - reserved2Start, out where)
            || !IsZero(report, O.CurrentBuild + 3, 1, out where)
            || !IsZero(report, O.CommittedBuild + 3, 1, out where)
            || !IsZero(report, reserved3Start, O.SignedLength - reserved3Start, out where)
            || !IsZero(report, O.SignatureR + 48, O.SignatureComponentLength - 48, out where)
            || !IsZero(report, O.SignatureS + 48, O.SignatureComponentLength - 48, out where)
            || !IsZero(report, O.SignatureReserved, O.ReportLength - O.SignatureReserved, out where))
        {
            return ReservedFailure(where);
        }

        SnpProductLine productLine = SnpProductLine.Unknown;
        if (version >= 3)
        {
            productLine = ProductLineFromCpuid(report[O.CpuidFamily], report[O.CpuidModel]);
            if (productLine == SnpProductLine.Unknown)
            {
                return SnpParseResult.Failure(
                    SnpErrorCodes.UnknownProduct,
                    $"CPUID family 0x{report[O.CpuidFamily]:x2} model 0x{report[O.CpuidModel]:x2} is not a known SEV-SNP product line");
            }
        }

        var parsed = new SnpReport(report.ToArray(), productLine);
        return parsed.CheckTcbReserved() ?? SnpParseResult.Success(parsed);
    }

    /// <summary>Maps CPUID family/model to a product line (as go-sev-guest's kds package does).</summary>
    public static SnpProductLine ProductLineFromCpuid(byte family, byte model) => (family, model) switch
    {
        (0x19, <= 0x0F) => SnpProductLine.Milan,
        (0x19, >= 0x10 and <= 0x1F) => SnpProductLine.Genoa,
        (0x19, >= 0xA0 and <= 0xAF) => SnpProductLine.Genoa,
        (0x1A, <= 0x1F) => SnpProductLine.Turin,
        _ => SnpProductLine.Unknown,
    };

    /// <summary>Maps a VCEK product name ("Milan-B0", "Genoa", "Turin-…") to a product line.</summary>
    public static SnpProductLine ProductLineFromName(string? productName)
    {
        if (string.IsNullOrEmpty(productName))
        {
            return SnpProductLine.Unknown;
        }

        int dash = productName.IndexOf('-', StringComparison.Ordinal);
        string line = dash < 0 ? productName : productName[..dash];
        return line switch
        {
            "Milan" => SnpProductLine.Milan,
            "Genoa" => SnpProductLine.Genoa,
            "Turin" => SnpProductLine.Turin,
            _ => SnpProductLine.Unknown,
        };
    }

    public static SnpTcbLayout LayoutOf(SnpProductLine productLine) => productLine switch
    {
        SnpProductLine.Milan or SnpProductLine.Genoa => SnpTcbLayout.MilanGenoa,
        SnpProductLine.Turin => SnpTcbLayout.Turin,
        _ => SnpTcbLayout.Unknown,
    };

    /// <summary>
    /// Returns this report with its product line settled from the VCEK (for v2 reports, which
    /// carry no CPUID). Fails when the report already names a different product line.
    /// </summary>
    internal SnpParseResult WithProductLine(SnpProductLine productLine)
    {
        if (productLine == SnpProductLine.Unknown)
        {
            return SnpParseResult.Failure(SnpErrorCodes.UnknownProduct, "the product line could not be determined");
        }

        if (ProductLine == productLine)
        {
            return SnpParseResult.Success(this);
        }

        if (ProductLine != SnpProductLine.Unknown)
        {
            return SnpParseResult.Failure(SnpErrorCodes.ProductMismatch, $"report CPUID says {ProductLine} but the VCEK is for {productLine}");
        }

        var resolved = new SnpReport(_raw, productLine);
        return resolved.CheckTcbReserved() ?? SnpParseResult.Success(resolved);
    }

    private SnpParseResult? CheckTcbReserved()
    {
        if (TcbLayout == SnpTcbLayout.Unknown)
        {
            return null;
        }

        foreach ((string name, SnpTcb tcb) in new[] { ("CURRENT_TCB", CurrentTcb), ("REPORTED_TCB", ReportedTcb), ("COMMITTED_TCB", CommittedTcb), ("LAUNCH_TCB", LaunchTcb) })
        {
            if (!tcb.ReservedBytesAreZero)
            {
                return SnpParseResult.Failure(SnpErrorCodes.TcbReservedNonZero, $"{name} has nonzero reserved bytes for the {TcbLayout} layout");
            }
        }

        return null;
    }

    private static SnpParseResult ReservedFailure(string? where) =>
        SnpParseResult.Failure(SnpErrorCodes.ReservedNonZero, $"reserved field {where} is not zero");

    private static bool IsZero(ReadOnlySpan<byte> report, int offset, int length, out string? where)
    {
        int nonZero = report.Slice(offset, length).IndexOfAnyExcept((byte)0);
        where = nonZero < 0 ? null : $"at 0x{offset + nonZero:x3}";
        return nonZero < 0;
    }

    private ReadOnlyMemory<byte> Slice(int offset, int length) => new(_raw, offset, length);

    private static uint U32(ReadOnlySpan<byte> r, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(r[offset..]);

    private static ulong U64(ReadOnlySpan<byte> r, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(r[offset..]);
}

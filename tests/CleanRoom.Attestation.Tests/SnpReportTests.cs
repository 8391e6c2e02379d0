namespace CleanRoom.Attestation.Tests;

public sealed class SnpReportTests
{
    [Fact]
    public void Go_sev_guest_report_parses_with_debug_policy_and_known_report_data()
    {
        SnpParseResult result = SnpReport.Parse(TestVectors.GoSevGuestReport);

        Assert.True(result.IsValid, result.ToString());
        SnpReport r = result.Report;
        Assert.Equal(2u, r.Version);
        Assert.Equal(0xB0000UL, r.Policy.Raw);
        Assert.True(r.Policy.Debug);
        Assert.True(r.Policy.SmtAllowed);
        Assert.False(r.Policy.MigrateMa);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, r.ReportData.Span[..5].ToArray());
        Assert.DoesNotContain(r.ReportData.Span[5..].ToArray(), b => b != 0);
        Assert.Equal(SnpSigningKey.Vcek, r.SigningKey);
        Assert.Null(r.CpuidFamily);
        Assert.Equal(SnpTcbLayout.Unknown, r.TcbLayout);
        Assert.Equal(0x4405000000000002UL, r.ReportedTcb.Raw);
        Assert.Equal(new SnpFirmwareVersion(1, 0x31, 3), r.CurrentVersion);
    }

    [Fact]
    public void Virtee_report_parses_as_not_debuggable()
    {
        SnpParseResult result = SnpReport.Parse(TestVectors.VirteeReport);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(0x30000UL, result.Report.Policy.Raw);
        Assert.False(result.Report.Policy.Debug);
    }

    [Fact]
    public void Truncated_report_is_refused_with_wrong_length()
    {
        SnpParseResult result = SnpReport.Parse(TestVectors.VirteeReport.AsSpan(0, 1183));

        Assert.False(result.IsValid);
        Assert.Equal(SnpErrorCodes.ReportWrongLength, result.ErrorCode);
    }

    [Fact]
    public void Empty_and_oversized_reports_are_refused()
    {
        Assert.Equal(SnpErrorCodes.ReportWrongLength, SnpReport.Parse([]).ErrorCode);
        Assert.Equal(SnpErrorCodes.ReportWrongLength, SnpReport.Parse(new byte[1185]).ErrorCode);
    }

    [Theory]
    [InlineData(0x04C)]
    [InlineData(0x04F)]
    [InlineData(0x188)] // CPUID family is reserved in a v2 report
    [InlineData(0x19F)]
    [InlineData(0x1EB)]
    [InlineData(0x1EF)]
    [InlineData(0x1F8)] // mitigation vectors are reserved before v5
    [InlineData(0x29F)]
    [InlineData(0x2A0 + 48)] // upper bytes of R
    [InlineData(0x2E8 + 71)] // upper bytes of S
    [InlineData(0x330)]
    [InlineData(0x49F)]
    public void Nonzero_reserved_byte_is_refused(int offset)
    {
        byte[] report = TestVectors.GoSevGuestReport;
        report[offset] = 0x01;

        SnpParseResult result = SnpReport.Parse(report);

        Assert.False(result.IsValid);
        Assert.Equal(SnpErrorCodes.ReservedNonZero, result.ErrorCode);
        Assert.Contains($"0x{offset:x3}", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Nonzero_signer_info_reserved_bits_are_refused()
    {
        byte[] report = TestVectors.GoSevGuestReport;
        report[0x048] = 0x20;

        Assert.Equal(SnpErrorCodes.ReservedNonZero, SnpReport.Parse(report).ErrorCode);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(6u)]
    [InlineData(0xFFFFFFFFu)]
    public void Unsupported_version_is_refused(uint version)
    {
        byte[] report = TestVectors.GoSevGuestReport;
        BitConverter.TryWriteBytes(report.AsSpan(0, 4), version);

        Assert.Equal(SnpErrorCodes.UnsupportedVersion, SnpReport.Parse(report).ErrorCode);
    }

    [Fact]
    public void Policy_with_reserved_bit_17_clear_is_refused()
    {
        byte[] report = TestVectors.VirteeReport;
        report[0x00A] &= unchecked((byte)~0x02);

        Assert.Equal(SnpErrorCodes.PolicyReservedBitClear, SnpReport.Parse(report).ErrorCode);
    }

    [Fact]
    public void Signature_algorithm_other_than_ecdsa_p384_is_refused()
    {
        byte[] report = TestVectors.VirteeReport;
        report[0x034] = 2;

        Assert.Equal(SnpErrorCodes.UnsupportedSignatureAlgorithm, SnpReport.Parse(report).ErrorCode);
    }

    [Fact]
    public void Vmpl_above_three_is_refused()
    {
        byte[] report = TestVectors.VirteeReport;
        report[0x030] = 4;

        Assert.Equal(SnpErrorCodes.FieldOutOfRange, SnpReport.Parse(report).ErrorCode);
    }

    [Fact]
    public void Builder_v3_report_exposes_cpuid_and_decodes_milan_tcb()
    {
        ulong tcb = SnpTcb.EncodeMilanGenoa(bootloader: 3, tee: 1, snp: 8, microcode: 115);
        byte[] bytes = new SnpReportBuilder { Version = 3, GuestSvn = 7, Vmpl = 2 }.WithTcb(tcb).BuildUnsigned();

        SnpParseResult result = SnpReport.Parse(bytes);

        Assert.True(result.IsValid, result.ToString());
        SnpReport r = result.Report;
        Assert.Equal((byte)0x19, r.CpuidFamily);
        Assert.Equal(SnpProductLine.Milan, r.ProductLine);
        Assert.Equal(SnpTcbLayout.MilanGenoa, r.TcbLayout);
        Assert.Equal(new SnpTcb(tcb, SnpTcbLayout.MilanGenoa, 3, 1, 8, 115, null), r.ReportedTcb);
        Assert.Equal(7u, r.GuestSvn);
        Assert.Equal(2u, r.Vmpl);
    }

    [Fact]
    public void Turin_cpuid_selects_the_turin_tcb_layout()
    {
        ulong tcb = SnpTcb.EncodeTurin(fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5);
        byte[] bytes = new SnpReportBuilder { Version = 3, CpuidFamily = 0x1A, CpuidModel = 0x02 }.WithTcb(tcb).BuildUnsigned();

        SnpParseResult result = SnpReport.Parse(bytes);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(SnpProductLine.Turin, result.Report.ProductLine);
        Assert.Equal(new SnpTcb(tcb, SnpTcbLayout.Turin, 2, 3, 4, 5, 1), result.Report.CurrentTcb);
    }

    [Fact]
    public void Milan_tcb_with_reserved_bytes_set_is_refused()
    {
        byte[] bytes = new SnpReportBuilder { Version = 3 }.WithTcb(0x0000_0100_0000_0000UL).BuildUnsigned();

        Assert.Equal(SnpErrorCodes.TcbReservedNonZero, SnpReport.Parse(bytes).ErrorCode);
    }

    [Fact]
    public void Unknown_cpuid_product_is_refused()
    {
        byte[] bytes = new SnpReportBuilder { Version = 3, CpuidFamily = 0x17, CpuidModel = 0x31 }.BuildUnsigned();

        Assert.Equal(SnpErrorCodes.UnknownProduct, SnpReport.Parse(bytes).ErrorCode);
    }

    [Fact]
    public void Version_5_report_carries_mitigation_vectors()
    {
        byte[] bytes = new SnpReportBuilder { Version = 5, LaunchMitVector = 0x11, CurrentMitVector = 0x22 }.BuildUnsigned();

        SnpParseResult result = SnpReport.Parse(bytes);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(0x11UL, result.Report.LaunchMitVector);
        Assert.Equal(0x22UL, result.Report.CurrentMitVector);
    }

    [Fact]
    public void Builder_round_trips_every_field_of_a_real_report()
    {
        SnpReport r = SnpReport.Parse(TestVectors.SidecarReport).Report!;
        var builder = new SnpReportBuilder
        {
            Version = r.Version,
            GuestSvn = r.GuestSvn,
            Policy = r.Policy.Raw,
            FamilyId = r.FamilyId.ToArray(),
            ImageId = r.ImageId.ToArray(),
            Vmpl = r.Vmpl,
            CurrentTcb = r.CurrentTcb.Raw,
            PlatformInfo = r.PlatformInfo.Raw,
            AuthorKeyEnabled = r.AuthorKeyEnabled,
            MaskChipKey = r.MaskChipKey,
            SigningKey = r.SigningKey,
            ReportData = r.ReportData.ToArray(),
            Measurement = r.Measurement.ToArray(),
            HostData = r.HostData.ToArray(),
            IdKeyDigest = r.IdKeyDigest.ToArray(),
            AuthorKeyDigest = r.AuthorKeyDigest.ToArray(),
            ReportId = r.ReportId.ToArray(),
            ReportIdMa = r.ReportIdMa.ToArray(),
            ReportedTcb = r.ReportedTcb.Raw,
            ChipId = r.ChipId.ToArray(),
            CommittedTcb = r.CommittedTcb.Raw,
            CurrentVersion = r.CurrentVersion,
            CommittedVersion = r.CommittedVersion,
            LaunchTcb = r.LaunchTcb.Raw,
        };

        Assert.Equal(r.SignedBytes.ToArray(), builder.BuildUnsigned().AsSpan(0, 0x2A0).ToArray());
    }
}

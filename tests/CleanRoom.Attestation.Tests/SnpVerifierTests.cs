using System.Security.Cryptography;

namespace CleanRoom.Attestation.Tests;

public sealed class SnpVerifierTests
{
    public static TheoryData<string> RealVectors => new() { "go-sev-guest", "virtee-sev", "confidential-sidecar-containers" };

    internal static (byte[] Report, string ChainPem) Vector(string name) => name switch
    {
        "go-sev-guest" => (TestVectors.GoSevGuestReport, TestVectors.GoSevGuestChainPem),
        "virtee-sev" => (TestVectors.VirteeReport, TestVectors.VirteeChainPem),
        "confidential-sidecar-containers" => (TestVectors.SidecarReport, TestVectors.SidecarChainPem),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(RealVectors))]
    public void Real_report_verifies_against_its_chain_and_the_production_roots(string vector)
    {
        (byte[] report, string chain) = Vector(vector);

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(report, chain);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal("Milan-B0", result.ProductName);
        Assert.False(result.IsSimulatedRoot);
        Assert.Equal(SnpProductLine.Milan, result.Report.ProductLine);
        Assert.Equal(SnpTcbLayout.MilanGenoa, result.Report.TcbLayout);
    }

    [Fact]
    public void Go_sev_guest_report_verifies_with_der_vcek_and_kds_ask_ark_file()
    {
        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.GoSevGuestReport, TestVectors.GoSevGuestVcekDer, TestVectors.MilanAskArkPem);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(new SnpTcb(0x4405000000000002UL, SnpTcbLayout.MilanGenoa, 2, 0, 5, 0x44, null), result.Report.ReportedTcb);
    }

    [Fact]
    public void Sidecar_host_data_is_the_sha256_of_its_security_policy()
    {
        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.SidecarReport, TestVectors.SidecarChainPem);
        byte[] policy = Convert.FromBase64String(TestVectors.SidecarSecurityPolicyBase64);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(SHA256.HashData(policy), result.Report.HostData.ToArray());
    }

    [Fact]
    public void Production_roots_pin_the_real_ark_milan_genoa_and_turin()
    {
        foreach (string pem in new[] { TestVectors.MilanAskArkPem, TestVectors.GenoaAskArkPem, TestVectors.TurinAskArkPem })
        {
            Assert.True(SnpVerifier.TryReadPemCertificates(pem, out List<byte[]> ders));
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(ders[^1])), SnpTrustedRoots.Production.Fingerprints);
        }

        Assert.Equal(3, SnpTrustedRoots.Production.Fingerprints.Count);
        Assert.False(SnpTrustedRoots.Production.IsSimulated);
    }

    public static TheoryData<int> SignedRegionBits()
    {
        var data = new TheoryData<int>();
        var rng = new Random(20261123);
        for (int i = 0; i < 96; i++)
        {
            data.Add(rng.Next(0, 0x2A0 * 8));
        }

        foreach (int fieldStart in new[] { 0x004, 0x010, 0x020, 0x040, 0x050, 0x090, 0x0C0, 0x0E0, 0x110, 0x140, 0x160, 0x1A0, 0x1E8 })
        {
            data.Add(fieldStart * 8);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SignedRegionBits))]
    public void Flipped_bit_in_the_signed_region_is_refused(int bit)
    {
        byte[] report = TestVectors.VirteeReport;
        int offset = bit / 8;
        report[offset] ^= (byte)(1 << (bit % 8));

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(report, TestVectors.VirteeChainPem);

        Assert.False(result.IsValid);
        string expected = offset switch
        {
            < 0x004 => SnpErrorCodes.UnsupportedVersion,
            >= 0x008 and < 0x010 when bit == (0x008 * 8) + 17 => SnpErrorCodes.PolicyReservedBitClear,
            >= 0x030 and < 0x034 => SnpErrorCodes.FieldOutOfRange,
            >= 0x034 and < 0x038 => SnpErrorCodes.UnsupportedSignatureAlgorithm,
            0x048 when bit % 8 >= 5 => SnpErrorCodes.ReservedNonZero,
            0x048 when bit % 8 >= 2 => SnpErrorCodes.FieldOutOfRange,
            >= 0x049 and < 0x050 => SnpErrorCodes.ReservedNonZero,
            >= 0x188 and < 0x1A0 or 0x1EB or 0x1EF or >= 0x1F8 => SnpErrorCodes.ReservedNonZero,
            _ => SnpErrorCodes.ReportSignatureInvalid,
        };

        // A flipped bit that the parser cannot see (e.g. inside a TCB's reserved bytes of a v2
        // report) is still caught by the signature.
        if (expected == SnpErrorCodes.ReportSignatureInvalid)
        {
            Assert.True(
                result.ErrorCode is SnpErrorCodes.ReportSignatureInvalid or SnpErrorCodes.TcbReservedNonZero or SnpErrorCodes.FieldOutOfRange,
                $"bit {bit} (offset 0x{offset:x3}): {result}");
        }
        else
        {
            Assert.Equal(expected, result.ErrorCode);
        }
    }

    [Fact]
    public void Flipped_bit_in_a_measurement_fails_the_signature_exactly()
    {
        byte[] report = TestVectors.VirteeReport;
        report[0x0A0] ^= 0x10;

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(report, TestVectors.VirteeChainPem);

        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, result.ErrorCode);
    }

    [Fact]
    public void Flipped_bit_in_the_signature_is_refused()
    {
        byte[] report = TestVectors.VirteeReport;
        report[0x2A0 + 5] ^= 0x01;

        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, TestVectors.ProductionVerifier.Verify(report, TestVectors.VirteeChainPem).ErrorCode);
    }

    [Fact]
    public void Report_with_another_chips_vcek_is_refused()
    {
        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.GoSevGuestReport, TestVectors.VirteeChainPem);

        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, result.ErrorCode);
    }

    [Fact]
    public void Vcek_signed_by_an_unrelated_ask_is_refused()
    {
        string chain = TestVectors.Pem(TestVectors.VirteeVcekDer) + "\n" + TestVectors.GenoaAskArkPem;

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, chain);

        Assert.Equal(SnpErrorCodes.CertificateSignatureInvalid, result.ErrorCode);
    }

    [Fact]
    public void Chain_to_an_unpinned_root_is_refused()
    {
        using SimulatedAmdPlatform platform = SimulatedAmdPlatform.Create();
        byte[] report = platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(report, platform.CertChainPem);

        Assert.Equal(SnpErrorCodes.RootNotTrusted, result.ErrorCode);
    }

    [Fact]
    public void Real_chain_is_refused_when_only_a_simulated_root_is_trusted()
    {
        using SimulatedAmdPlatform platform = SimulatedAmdPlatform.Create();
        var verifier = new SnpVerifier(platform.TrustedRoots, new FixedTimeProvider(TestVectors.VectorTime));

        Assert.Equal(SnpErrorCodes.RootNotTrusted, verifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeChainPem).ErrorCode);
    }

    [Fact]
    public void Expired_vcek_is_refused()
    {
        var verifier = new SnpVerifier(SnpTrustedRoots.Production, new FixedTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        Assert.Equal(SnpErrorCodes.CertificateExpired, verifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeChainPem).ErrorCode);
    }

    [Fact]
    public void Truncated_report_is_refused_by_the_verifier()
    {
        Assert.Equal(SnpErrorCodes.ReportWrongLength, TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport.AsSpan(0, 0x2A0), TestVectors.VirteeChainPem).ErrorCode);
    }

    [Fact]
    public void Chain_with_missing_or_extra_certificates_is_malformed()
    {
        Assert.Equal(SnpErrorCodes.CertificateChainMalformed, TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeAskArkPem).ErrorCode);
        Assert.Equal(SnpErrorCodes.CertificateChainMalformed, TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeChainPem + TestVectors.MilanAskArkPem).ErrorCode);
        Assert.Equal(SnpErrorCodes.CertificateChainMalformed, TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, "not a pem").ErrorCode);
    }

    [Fact]
    public void Chain_in_the_wrong_order_is_refused()
    {
        SnpVerifier.TryReadPemCertificates(TestVectors.VirteeAskArkPem, out List<byte[]> askArk);
        string swapped = string.Join("\n", TestVectors.Pem(askArk[0]), TestVectors.Pem(TestVectors.VirteeVcekDer), TestVectors.Pem(askArk[1]));

        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, swapped);

        Assert.False(result.IsValid);
        Assert.Equal(SnpErrorCodes.CertificateAlgorithmInvalid, result.ErrorCode);
    }

    [Fact]
    public void Verifier_reason_is_one_line_without_report_bytes()
    {
        SnpVerificationResult result = TestVectors.ProductionVerifier.Verify(TestVectors.GoSevGuestReport, TestVectors.VirteeChainPem);
        string measurement = Convert.ToHexStringLower(SnpReport.Parse(TestVectors.GoSevGuestReport).Report!.Measurement.Span);

        Assert.NotNull(result.Reason);
        Assert.DoesNotContain('\n', result.Reason);
        Assert.DoesNotContain(measurement, result.Reason, StringComparison.Ordinal);
    }
}

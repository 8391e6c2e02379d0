using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.Attestation.Tests;

public sealed class SimulatedAmdPlatformTests : IClassFixture<SimulatedPlatformFixture>
{
    private readonly SimulatedAmdPlatform _platform;

    public SimulatedAmdPlatformTests(SimulatedPlatformFixture fixture) => _platform = fixture.Platform;

    [Fact]
    public void Simulated_report_round_trips_through_the_same_parser_and_verifier()
    {
        byte[] reportData = RandomNumberGenerator.GetBytes(64);
        byte[] hostData = RandomNumberGenerator.GetBytes(32);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = reportData, HostData = hostData, Vmpl = 1, GuestSvn = 3 });

        SnpVerificationResult result = new SnpVerifier(_platform.TrustedRoots).Verify(report, _platform.CertChainPem);

        Assert.True(result.IsValid, result.ToString());
        Assert.True(result.IsSimulatedRoot);
        Assert.Equal(SimulatedAmdPlatform.ProductName, result.ProductName);
        SnpReport r = result.Report;
        Assert.Equal(1184, report.Length);
        Assert.Equal(3u, r.Version);
        Assert.Equal(reportData, r.ReportData.ToArray());
        Assert.Equal(hostData, r.HostData.ToArray());
        Assert.Equal(SimulatedAmdPlatform.SimulatedLaunchMeasurement, r.Measurement.ToArray());
        Assert.Equal(1u, r.Vmpl);
        Assert.Equal(3u, r.GuestSvn);
        Assert.False(r.Policy.Debug);
        Assert.False(r.Policy.MigrateMa);
        Assert.True(r.Policy.SmtAllowed);
        Assert.Equal(SnpProductLine.Milan, r.ProductLine);
    }

    [Fact]
    public void Simulated_root_is_refused_when_only_production_roots_are_trusted()
    {
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });

        SnpVerificationResult result = new SnpVerifier(SnpTrustedRoots.Production).Verify(report, _platform.CertChainPem);

        Assert.False(result.IsValid);
        Assert.Equal(SnpErrorCodes.RootNotTrusted, result.ErrorCode);
    }

    [Fact]
    public void Simulated_launch_measurement_is_sha384_of_the_well_known_string()
    {
        Assert.Equal(
            "63f28a27836ee0f5fa9acc451ff0e4904a3582426284ca4255314de6536195f3d711cf471ce39d94053ab58187416415",
            Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement));
    }

    [Fact]
    public void Simulated_certificates_say_simulated()
    {
        Assert.Contains("SIMULATED", _platform.ArkPem.Length > 0 ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(_platform.ArkPem).Subject : string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_roots_cannot_be_trusted_as_simulated()
    {
        SnpVerifier.TryReadPemCertificates(TestVectors.MilanAskArkPem, out List<byte[]> ders);

        Assert.Throws<ArgumentException>(() => SnpTrustedRoots.Simulated(SHA256.HashData(ders[1])));
    }

    [Fact]
    public void Saved_platform_loads_and_signs_verifiable_reports_with_private_key_mode_0600()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cleanroom-sim-" + Guid.NewGuid().ToString("N"));
        try
        {
            _platform.Save(dir);
            using SimulatedAmdPlatform loaded = SimulatedAmdPlatform.Load(dir);
            byte[] report = loaded.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });

            SnpVerificationResult result = new SnpVerifier(SnpTrustedRoots.SimulatedFromPem(File.ReadAllText(Path.Combine(dir, SimulatedAmdPlatform.ArkFileName)))).Verify(report, loaded.CertChainPem);

            Assert.True(result.IsValid, result.ToString());
            Assert.Equal(_platform.ArkSha256, loaded.ArkSha256);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, SimulatedAmdPlatform.VcekKeyFileName)));
            }

            Assert.Single(Directory.GetFiles(dir, "*.key.pem"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Simulated_report_with_debug_policy_still_verifies_but_reports_debug()
    {
        byte[] report = _platform.CreateReport(new SimulatedReportRequest
        {
            ReportData = new byte[64],
            Policy = SnpGuestPolicy.DefaultSimulated | SnpGuestPolicy.DebugBit,
        });

        SnpVerificationResult result = new SnpVerifier(_platform.TrustedRoots).Verify(report, _platform.CertChainPem);

        Assert.True(result.IsValid, result.ToString());
        Assert.True(result.Report.Policy.Debug);
    }

    [Fact]
    public void Report_request_with_wrong_sized_fields_is_a_caller_bug()
    {
        Assert.Throws<ArgumentException>(() => _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[63] }));
        Assert.Throws<ArgumentException>(() => _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64], Measurement = Encoding.ASCII.GetBytes("short") }));
    }

    private SnpVerificationResult EditSignVerify(Action<byte[]> edit)
    {
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });
        edit(report);
        _platform.Sign(report);
        return new SnpVerifier(_platform.TrustedRoots).Verify(report, _platform.CertChainPem);
    }

    [Fact]
    public void Reported_tcb_that_differs_from_the_vcek_is_refused()
    {
        Assert.Equal(SnpErrorCodes.TcbMismatch, EditSignVerify(r => r[0x186] = 23).ErrorCode);
        Assert.Equal(SnpErrorCodes.TcbMismatch, EditSignVerify(r => r[0x187] = 200).ErrorCode);
    }

    [Fact]
    public void Chip_id_that_differs_from_the_vcek_hwid_is_refused()
    {
        Assert.Equal(SnpErrorCodes.ChipIdMismatch, EditSignVerify(r => r[0x1A0 + 63] ^= 1).ErrorCode);
    }

    [Fact]
    public void Masked_chip_id_is_accepted_only_when_zeroed()
    {
        SnpVerificationResult masked = EditSignVerify(r =>
        {
            r[0x048] |= 2;
            r.AsSpan(0x1A0, 64).Clear();
        });
        SnpVerificationResult maskedButPresent = EditSignVerify(r => r[0x048] |= 2);

        Assert.True(masked.IsValid, masked.ToString());
        Assert.True(masked.Report.MaskChipKey);
        Assert.Equal(SnpErrorCodes.ChipIdMismatch, maskedButPresent.ErrorCode);
    }

    [Theory]
    [InlineData(0x19, 0x11)] // Genoa
    [InlineData(0x1A, 0x02)] // Turin
    public void Cpuid_naming_another_product_line_than_the_vcek_is_refused(byte family, byte model)
    {
        SnpVerificationResult result = EditSignVerify(r =>
        {
            r[0x188] = family;
            r[0x189] = model;
        });

        Assert.False(result.IsValid);
        Assert.True(result.ErrorCode is SnpErrorCodes.ProductMismatch or SnpErrorCodes.TcbReservedNonZero, result.ToString());
    }

    [Fact]
    public void Cpuid_genoa_with_a_milan_vcek_is_a_product_mismatch()
    {
        Assert.Equal(SnpErrorCodes.ProductMismatch, EditSignVerify(r => r[0x189] = 0x11).ErrorCode);
    }

    [Fact]
    public void Vlek_signed_report_is_refused()
    {
        Assert.Equal(SnpErrorCodes.UnsupportedSigningKey, EditSignVerify(r => r[0x048] = 1 << 2).ErrorCode);
    }

    [Fact]
    public void Version_2_simulated_report_settles_its_tcb_layout_from_the_vcek_product_name()
    {
        SnpVerificationResult result = EditSignVerify(r =>
        {
            r[0] = 2;
            r.AsSpan(0x188, 3).Clear();
        });

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(SnpTcbLayout.MilanGenoa, result.Report.TcbLayout);
        Assert.Equal(22, result.Report.ReportedTcb.Snp);
    }
}

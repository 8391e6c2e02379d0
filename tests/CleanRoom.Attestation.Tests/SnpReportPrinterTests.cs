namespace CleanRoom.Attestation.Tests;

public sealed class SnpReportPrinterTests
{
    [Fact]
    public void Printer_renders_every_field_of_a_verified_report_as_lines()
    {
        SnpVerificationResult verified = TestVectors.ProductionVerifier.Verify(TestVectors.GoSevGuestReport, TestVectors.GoSevGuestChainPem);

        IReadOnlyList<string> lines = SnpReportPrinter.Render(verified.Report!);

        Assert.Contains("VERSION: 2", lines);
        Assert.Contains(lines, l => l.StartsWith("POLICY: 0xb0000 ", StringComparison.Ordinal) && l.Contains("debug=1", StringComparison.Ordinal));
        Assert.Contains("REPORTED_TCB: bootloader=2 tee=0 snp=5 microcode=68 (0x4405000000000002)", lines);
        Assert.Contains("PRODUCT_LINE: Milan", lines);
        Assert.Contains(lines, l => l.StartsWith("MEASUREMENT: b07af9620f3b839b", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
    }

    [Fact]
    public void Printer_shows_cpuid_and_mitigation_vectors_for_a_v5_report()
    {
        SnpReport report = SnpReport.Parse(new SnpReportBuilder { Version = 5, CurrentMitVector = 3 }.BuildUnsigned()).Report!;

        IReadOnlyList<string> lines = SnpReportPrinter.Render(report);

        Assert.Contains("CPUID: family 0x19 model 0x01 stepping 0x01", lines);
        Assert.Contains("CURRENT_MIT_VECTOR: 0x0000000000000003", lines);
    }
}

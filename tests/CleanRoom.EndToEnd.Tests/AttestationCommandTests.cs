namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// `cleanroom attestation verify-report` as a user runs it, on the real SEV-SNP reports in
/// tests/CleanRoom.Attestation.Tests/Vectors/sev-snp (see the README there for their sources).
/// </summary>
public sealed class AttestationCommandTests : IDisposable
{
    private static readonly string s_vectors = Path.Combine(Processes.RepoRoot, "tests", "CleanRoom.Attestation.Tests", "Vectors", "sev-snp");

    private readonly string _dir = Directory.CreateTempSubdirectory("cleanroom-attest-cli-").FullName;

    private static string GoSevGuest(string file) => Path.Combine(s_vectors, "go-sev-guest", file);

    private static string Virtee(string file) => Path.Combine(s_vectors, "virtee-sev", file);

    private static string Sidecar(string file) => Path.Combine(s_vectors, "confidential-sidecar-containers", file);

    private static string ProductionPolicy => Path.Combine(Processes.Policies, "production-sevsnp.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int ExitCode, string Output)> VerifyAsync(params string[] args) =>
        Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), ["attestation", "verify-report", .. args]);

    [Fact]
    public async Task Go_sev_guest_report_verifies_without_a_policy_and_its_fields_are_printed()
    {
        var (code, output) = await VerifyAsync("--report", GoSevGuest("attestation.bin"), "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_milan.pem"));

        Assert.True(code == 0, output);
        Assert.Contains("VERSION: 2", output, StringComparison.Ordinal);
        Assert.Contains("debug=1", output, StringComparison.Ordinal);
        Assert.Contains("MEASUREMENT: b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01", output, StringComparison.Ordinal);
        Assert.Contains("REPORT_DATA: 0102030405000000", output, StringComparison.Ordinal);
        Assert.Contains("PASS  signature and chain: VCEK (Milan-B0) ← ASK ← pinned AMD ARK", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Virtee_hex_report_verifies_without_a_policy()
    {
        var (code, output) = await VerifyAsync("--report", Virtee("report_milan.hex"), "--hex", "--vcek", Virtee("vcek_milan.der"), "--chain", Virtee("cert_chain_milan"));

        Assert.True(code == 0, output);
        Assert.Contains("debug=0", output, StringComparison.Ordinal);
        Assert.Contains("PASS  signature and chain", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confidential_sidecar_report_verifies_with_its_vcek_ask_ark_pem_file_as_both_vcek_and_chain()
    {
        var (code, output) = await VerifyAsync("--report", Sidecar("snp_report.bin"), "--vcek", Sidecar("uvm_host_amd_certificate.pem"), "--chain", Sidecar("uvm_host_amd_certificate.pem"));

        Assert.True(code == 0, output);
        Assert.Contains("PASS  signature and chain", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Go_sev_guest_report_is_refused_by_the_production_policy_because_it_is_debuggable()
    {
        var (code, output) = await VerifyAsync("--report", GoSevGuest("attestation.bin"), "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_milan.pem"), "--policy", ProductionPolicy);

        Assert.NotEqual(0, code);
        Assert.Contains("PASS  signature and chain", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  policy 'cleanroom-production-sevsnp': the VM is debuggable", output, StringComparison.Ordinal);
        Assert.Contains("[policy.debug_not_allowed]", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x000)] // VERSION
    [InlineData(0x050)] // REPORT_DATA
    [InlineData(0x090)] // MEASUREMENT
    [InlineData(0x1A0)] // CHIP_ID
    [InlineData(0x29F)] // last signed byte
    public async Task Report_with_a_flipped_bit_in_the_signed_region_is_refused(int offset)
    {
        var report = await File.ReadAllBytesAsync(GoSevGuest("attestation.bin"));
        report[offset] ^= 0x01;
        var path = Path.Combine(_dir, $"flipped-{offset:x3}.bin");
        await File.WriteAllBytesAsync(path, report);

        var (code, output) = await VerifyAsync("--report", path, "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_milan.pem"));

        Assert.NotEqual(0, code);
        Assert.Contains("FAIL  ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("PASS  signature and chain", output, StringComparison.Ordinal);
        Assert.Matches(@"\[snp\.[a-z_]+\]", output);
    }

    [Fact]
    public async Task Report_with_a_flipped_measurement_bit_fails_the_signature_check()
    {
        var report = await File.ReadAllBytesAsync(GoSevGuest("attestation.bin"));
        report[0x090] ^= 0x80;
        var path = Path.Combine(_dir, "flipped-measurement.bin");
        await File.WriteAllBytesAsync(path, report);

        var (code, output) = await VerifyAsync("--report", path, "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_milan.pem"));

        Assert.NotEqual(0, code);
        Assert.Contains("FAIL  signature and chain: the report signature does not verify under the VCEK [snp.report_signature_invalid]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_report_is_refused_with_its_length()
    {
        var report = await File.ReadAllBytesAsync(GoSevGuest("attestation.bin"));
        var path = Path.Combine(_dir, "truncated.bin");
        await File.WriteAllBytesAsync(path, report[..1000]);

        var (code, output) = await VerifyAsync("--report", path, "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_milan.pem"));

        Assert.NotEqual(0, code);
        Assert.Contains("FAIL  parse: report is 1000 bytes, expected 1184 [snp.report_wrong_length]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_with_another_chips_vcek_is_refused_and_the_reason_names_the_chip_mismatch()
    {
        var (code, output) = await VerifyAsync("--report", GoSevGuest("attestation.bin"), "--vcek", Virtee("vcek_milan.der"), "--chain", GoSevGuest("ask_ark_milan.pem"));

        Assert.NotEqual(0, code);
        Assert.Contains("FAIL  signature and chain: the report signature does not verify under the VCEK, whose hardware ID differs from the report's CHIP_ID", output, StringComparison.Ordinal);
        Assert.Contains("[snp.report_signature_invalid]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_with_another_product_lines_ask_ark_is_refused()
    {
        // Genoa's ASK/ARK are real AMD roots but did not sign this Milan VCEK: the chain does not hold.
        var (code, output) = await VerifyAsync("--report", GoSevGuest("attestation.bin"), "--vcek", GoSevGuest("vcek.testcer"), "--chain", GoSevGuest("ask_ark_genoa.pem"));

        Assert.NotEqual(0, code);
        Assert.Contains("FAIL  signature and chain: ", output, StringComparison.Ordinal);
    }
}

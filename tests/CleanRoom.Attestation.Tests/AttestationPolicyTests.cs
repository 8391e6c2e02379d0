using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.Attestation.Tests;

public sealed class AttestationPolicyTests : IClassFixture<SimulatedPlatformFixture>
{
    private static readonly byte[] RuntimeData = Encoding.UTF8.GetBytes("{\"keys\":[]}");
    private readonly SimulatedAmdPlatform _platform;

    public AttestationPolicyTests(SimulatedPlatformFixture fixture) => _platform = fixture.Platform;

    private static byte[] Binding(byte[] runtimeData) => [.. SHA256.HashData(runtimeData), .. new byte[32]];

    private SnpVerificationResult Simulated(SimulatedReportRequest request) =>
        new SnpVerifier(_platform.TrustedRoots).Verify(_platform.CreateReport(request), _platform.CertChainPem);

    private SnpVerificationResult SimulatedGood() => Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData) });

    [Fact]
    public void Shipped_policies_parse()
    {
        AttestationPolicyParseResult simulated = AttestationPolicy.Parse(TestPolicies.SimulatedJson);
        AttestationPolicyParseResult production = AttestationPolicy.Parse(TestPolicies.ProductionJson);

        Assert.True(simulated.IsValid, simulated.ToString());
        Assert.True(production.IsValid, production.ToString());
        Assert.Equal(AttestationRootOfTrust.SimulatedAmd, simulated.Policy.RootOfTrust);
        Assert.Equal("https://simulated-attestation.cleanroom.invalid", simulated.Policy.Issuer);
        Assert.Contains(Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement), simulated.Policy.AllowedMeasurements);
        Assert.Equal(AttestationRootOfTrust.Amd, production.Policy.RootOfTrust);
        Assert.False(production.Policy.AllowDebug);
        Assert.DoesNotContain(Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement), production.Policy.AllowedMeasurements);
    }

    [Fact]
    public void Simulated_evidence_satisfies_the_simulated_policy()
    {
        PolicyEvaluationResult result = TestPolicies.Simulated.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData));

        Assert.True(result.IsAllowed, result.ToString());
    }

    [Fact]
    public void Go_sev_guest_report_is_refused_by_the_production_policy_because_it_is_debuggable()
    {
        SnpVerificationResult evidence = TestVectors.ProductionVerifier.Verify(TestVectors.GoSevGuestReport, TestVectors.GoSevGuestChainPem);

        PolicyEvaluationResult result = TestPolicies.Production.Evaluate(evidence, new byte[32]);

        Assert.True(evidence.IsValid, evidence.ToString());
        Assert.Equal(AttestationPolicyErrorCodes.DebugNotAllowed, result.ErrorCode);
    }

    [Fact]
    public void Virtee_report_is_refused_by_the_production_policy_because_no_measurement_is_allowed_yet()
    {
        SnpVerificationResult evidence = TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeChainPem);

        Assert.Equal(AttestationPolicyErrorCodes.MeasurementNotAllowed, TestPolicies.Production.Evaluate(evidence, new byte[32]).ErrorCode);
    }

    [Fact]
    public void Real_sidecar_report_satisfies_an_amd_policy_that_allows_its_measurement_and_host_data()
    {
        SnpVerificationResult evidence = TestVectors.ProductionVerifier.Verify(TestVectors.SidecarReport, TestVectors.SidecarChainPem);
        SnpReport r = evidence.Report!;
        string json = TestPolicies.SimulatedWith(
            ("rootOfTrust", "\"amd\""),
            ("issuer", "\"https://attestation.cleanroom.example\""),
            ("allowedMeasurements", $"[\"{Convert.ToHexString(r.Measurement.Span)}\"]"),
            ("hostData", $"\"{Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(TestVectors.SidecarSecurityPolicyBase64)))}\""));
        AttestationPolicy policy = AttestationPolicy.Parse(json).Policy!;

        PolicyEvaluationResult result = policy.Evaluate(evidence, r.ReportData.Span[..32]);

        Assert.True(result.IsAllowed, result.ToString());
    }

    [Fact]
    public void Simulated_evidence_is_refused_by_a_policy_rooted_in_real_amd()
    {
        string json = TestPolicies.SimulatedWith(("rootOfTrust", "\"amd\""), ("issuer", "\"https://attestation.cleanroom.example\""));

        PolicyEvaluationResult result = AttestationPolicy.Parse(json).Policy!.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData));

        Assert.Equal(AttestationPolicyErrorCodes.RootOfTrustMismatch, result.ErrorCode);
    }

    [Fact]
    public void Real_evidence_is_refused_by_the_simulated_policy()
    {
        SnpVerificationResult evidence = TestVectors.ProductionVerifier.Verify(TestVectors.VirteeReport, TestVectors.VirteeChainPem);

        Assert.Equal(AttestationPolicyErrorCodes.RootOfTrustMismatch, TestPolicies.Simulated.Evaluate(evidence, new byte[32]).ErrorCode);
    }

    [Fact]
    public void Debuggable_vm_is_refused()
    {
        SnpVerificationResult evidence = Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData), Policy = SnpGuestPolicy.DefaultSimulated | SnpGuestPolicy.DebugBit });

        Assert.Equal(AttestationPolicyErrorCodes.DebugNotAllowed, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Migratable_vm_is_refused()
    {
        SnpVerificationResult evidence = Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData), Policy = SnpGuestPolicy.DefaultSimulated | SnpGuestPolicy.MigrateMaBit });

        Assert.Equal(AttestationPolicyErrorCodes.MigrationNotAllowed, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Guest_policy_with_undefined_bits_is_refused()
    {
        SnpVerificationResult evidence = Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData), Policy = SnpGuestPolicy.DefaultSimulated | (1UL << 40) });

        Assert.Equal(AttestationPolicyErrorCodes.UndefinedPolicyBits, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Measurement_not_in_the_allow_list_is_refused()
    {
        SnpVerificationResult evidence = Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData), Measurement = SHA384.HashData("another image"u8) });

        Assert.Equal(AttestationPolicyErrorCodes.MeasurementNotAllowed, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Host_data_other_than_the_required_value_is_refused()
    {
        AttestationPolicy policy = AttestationPolicy.Parse(TestPolicies.SimulatedWith(("hostData", $"\"{new string('a', 64)}\""))).Policy!;

        Assert.Equal(AttestationPolicyErrorCodes.HostDataMismatch, policy.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Tcb_below_the_minimum_is_refused()
    {
        AttestationPolicy policy = AttestationPolicy.Parse(TestPolicies.SimulatedWith(("minimumTcb", "{\"bootloader\":3,\"tee\":0,\"snp\":23,\"microcode\":115}"))).Policy!;

        Assert.Equal(AttestationPolicyErrorCodes.TcbTooLow, policy.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Vmpl_other_than_required_is_refused()
    {
        SnpVerificationResult evidence = Simulated(new SimulatedReportRequest { ReportData = Binding(RuntimeData), Vmpl = 2 });

        Assert.Equal(AttestationPolicyErrorCodes.VmplMismatch, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Guest_svn_below_the_minimum_is_refused()
    {
        AttestationPolicy policy = AttestationPolicy.Parse(TestPolicies.SimulatedWith(("minimumGuestSvn", "5"))).Policy!;

        Assert.Equal(AttestationPolicyErrorCodes.GuestSvnTooLow, policy.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Fact]
    public void Report_data_not_matching_the_runtime_data_is_refused()
    {
        PolicyEvaluationResult result = TestPolicies.Simulated.Evaluate(SimulatedGood(), SHA256.HashData("{\"keys\":[1]}"u8));

        Assert.Equal(AttestationPolicyErrorCodes.ReportDataMismatch, result.ErrorCode);
    }

    [Fact]
    public void Report_data_with_nonzero_upper_half_is_refused()
    {
        byte[] reportData = Binding(RuntimeData);
        reportData[63] = 1;

        PolicyEvaluationResult result = TestPolicies.Simulated.Evaluate(Simulated(new SimulatedReportRequest { ReportData = reportData }), SHA256.HashData(RuntimeData));

        Assert.Equal(AttestationPolicyErrorCodes.ReportDataMismatch, result.ErrorCode);
    }

    [Fact]
    public void Unverified_v2_report_is_refused_because_its_tcb_layout_is_unknown()
    {
        SnpReport report = SnpReport.Parse(TestVectors.VirteeReport).Report!;
        AttestationPolicy policy = AttestationPolicy.Parse(TestPolicies.SimulatedWith(
            ("allowedMeasurements", $"[\"{Convert.ToHexStringLower(report.Measurement.Span)}\"]"))).Policy!;

        Assert.Equal(AttestationPolicyErrorCodes.TcbLayoutUnknown, policy.Evaluate(report, report.ReportData.Span[..32]).ErrorCode);
    }

    [Fact]
    public void Failed_evidence_is_refused()
    {
        SnpVerificationResult evidence = new SnpVerifier(SnpTrustedRoots.Production).Verify(new byte[10], _platform.CertChainPem);

        Assert.Equal(AttestationPolicyErrorCodes.EvidenceInvalid, TestPolicies.Simulated.Evaluate(evidence, SHA256.HashData(RuntimeData)).ErrorCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"name\":\"x\"}")]
    [InlineData("{\"name\":\"x\",\"name\":\"y\"}")]
    public void Malformed_policy_json_is_refused_and_refuses_everything(string json)
    {
        AttestationPolicyParseResult parsed = AttestationPolicy.Parse(json);

        Assert.False(parsed.IsValid);
        Assert.Equal(AttestationPolicyErrorCodes.Malformed, parsed.ErrorCode);
        Assert.Equal(AttestationPolicyErrorCodes.Malformed, parsed.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData)).ErrorCode);
    }

    public static TheoryData<string, string> BadFields => new()
    {
        { "rootOfTrust", "\"any\"" },
        { "rootOfTrust", "null" },
        { "allowDebug", "\"false\"" },
        { "allowedMeasurements", "[\"abcd\"]" },
        { "allowedMeasurements", "\"*\"" },
        { "hostData", "\"zz\"" },
        { "minimumTcb", "{\"bootloader\":3,\"tee\":0,\"snp\":8}" },
        { "minimumTcb", "{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":256}" },
        { "minimumTcb", "{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":1,\"extra\":1}" },
        { "vmpl", "4" },
        { "vmpl", "-1" },
        { "issuer", "\"http://simulated-attestation.cleanroom.invalid\"" },
        { "issuer", "\"https://attestation.cleanroom.example\"" },
        { "tokenLifetimeSeconds", "0" },
        { "tokenLifetimeSeconds", "999999" },
        { "surprise", "true" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public void Policy_with_an_invalid_field_is_malformed(string property, string jsonValue)
    {
        AttestationPolicyParseResult parsed = AttestationPolicy.Parse(TestPolicies.SimulatedWith((property, jsonValue)));

        Assert.False(parsed.IsValid);
        Assert.Equal(AttestationPolicyErrorCodes.Malformed, parsed.ErrorCode);
    }

    [Fact]
    public void Amd_policy_cannot_use_the_simulated_issuer()
    {
        Assert.False(AttestationPolicy.Parse(TestPolicies.SimulatedWith(("rootOfTrust", "\"amd\""))).IsValid);
    }

    [Fact]
    public void Missing_policy_file_is_a_failed_parse()
    {
        Assert.Equal(AttestationPolicyErrorCodes.Malformed, AttestationPolicy.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json")).ErrorCode);
    }

    [Fact]
    public void Every_shipped_policy_rooted_in_amd_refuses_simulated_evidence()
    {
        string[] files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Policies"), "*.json");
        Assert.NotEmpty(files);
        int amdPolicies = 0;
        foreach (string file in files)
        {
            AttestationPolicyParseResult parsed = AttestationPolicy.Load(file);
            Assert.True(parsed.IsValid, $"{Path.GetFileName(file)}: {parsed}");
            if (parsed.Policy.RootOfTrust == AttestationRootOfTrust.Amd)
            {
                amdPolicies++;
                Assert.Equal(AttestationPolicyErrorCodes.RootOfTrustMismatch, parsed.Policy.Evaluate(SimulatedGood(), SHA256.HashData(RuntimeData)).ErrorCode);
                Assert.DoesNotContain(".invalid", parsed.Policy.Issuer, StringComparison.Ordinal);
            }
        }

        Assert.True(amdPolicies >= 1);
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CleanRoom.Attestation.Tests;

public sealed class AttestationAuthorityTests : IClassFixture<AuthorityFixture>
{
    internal const string RuntimeJson = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"enclave-wrap\",\"key_ops\":[\"encrypt\"],\"e\":\"AQAB\",\"n\":\"sXch\"}]}";
    private readonly AuthorityFixture _f;

    public AttestationAuthorityTests(AuthorityFixture fixture) => _f = fixture;

    internal static SnpAttestRequest Request(SimulatedAmdPlatform platform, string runtimeJson = RuntimeJson, string? nonce = "n-123", Func<SimulatedReportRequest, SimulatedReportRequest>? tweak = null)
    {
        byte[] runtime = Encoding.UTF8.GetBytes(runtimeJson);
        var reportRequest = new SimulatedReportRequest { ReportData = (byte[])[.. SHA256.HashData(runtime), .. new byte[32]] };
        return new SnpAttestRequest
        {
            Report = platform.CreateReport(tweak?.Invoke(reportRequest) ?? reportRequest),
            VcekCertChainPem = platform.CertChainPem,
            RuntimeData = runtime,
            Nonce = nonce,
        };
    }

    private TokenValidationOptions Options(bool allowSimulated = true, string? nonce = "n-123") => new()
    {
        ExpectedIssuer = _f.Authority.Issuer,
        AllowSimulated = allowSimulated,
        ExpectedNonce = nonce,
        TimeProvider = _f.Time,
    };

    [Fact]
    public void Authority_to_validator_round_trip_yields_maa_shaped_claims()
    {
        AttestResult attested = _f.Authority.Attest(Request(_f.Platform));
        Assert.True(attested.IsSuccess, attested.ToString());

        TokenValidationResult result = AttestationTokenValidator.Validate(attested.Token, _f.Authority.JwksJson, Options());

        Assert.True(result.IsValid, result.ToString());
        JsonElement c = result.Claims;
        Assert.Equal("https://simulated-attestation.cleanroom.invalid", c.GetProperty("iss").GetString());
        Assert.Equal("1.0", c.GetProperty("x-ms-ver").GetString());
        Assert.Equal("sevsnpvm", c.GetProperty("x-ms-attestation-type").GetString());
        Assert.Equal("n-123", c.GetProperty("nonce").GetString());
        Assert.Equal(Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement), c.GetProperty("x-ms-sevsnpvm-launchmeasurement").GetString());
        Assert.False(c.GetProperty("x-ms-sevsnpvm-is-debuggable").GetBoolean());
        Assert.False(c.GetProperty("x-ms-sevsnpvm-migration-allowed").GetBoolean());
        Assert.True(c.GetProperty("x-ms-sevsnpvm-smt-allowed").GetBoolean());
        Assert.Equal(0, c.GetProperty("x-ms-sevsnpvm-vmpl").GetInt32());
        Assert.Equal(22, c.GetProperty("x-ms-sevsnpvm-snpfw-svn").GetInt32());
        Assert.Equal(213, c.GetProperty("x-ms-sevsnpvm-microcode-svn").GetInt32());
        Assert.Equal(4, c.GetProperty("x-ms-sevsnpvm-bootloader-svn").GetInt32());
        Assert.Equal(0, c.GetProperty("x-ms-sevsnpvm-tee-svn").GetInt32());
        Assert.Equal(0, c.GetProperty("x-ms-sevsnpvm-guestsvn").GetInt32());
        foreach (string hexClaim in new[] { "reportdata", "hostdata", "familyId", "imageId", "idkeydigest", "authorkeydigest", "reportid" })
        {
            Assert.Equal(JsonValueKind.String, c.GetProperty("x-ms-sevsnpvm-" + hexClaim).ValueKind);
        }

        Assert.Equal(
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RuntimeJson))) + new string('0', 64),
            c.GetProperty("x-ms-sevsnpvm-reportdata").GetString());
        Assert.Equal(TestPolicies.Simulated.PolicyHash, c.GetProperty("x-ms-policy-hash").GetString());
        Assert.True(c.GetProperty("x-cleanroom-simulated").GetBoolean());
        Assert.True(result.IsSimulated);
        Assert.Equal(28800, c.GetProperty("exp").GetInt64() - c.GetProperty("iat").GetInt64());
        JsonElement key = Assert.Single(result.RuntimeKeys);
        Assert.Equal("enclave-wrap", key.GetProperty("kid").GetString());
    }

    [Fact]
    public void Token_header_is_rs256_with_thumbprint_kid_and_certs_jku()
    {
        string token = _f.Authority.Attest(Request(_f.Platform)).Token!;
        using JsonDocument header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[0]));

        Assert.Equal("RS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.RootElement.GetProperty("typ").GetString());
        Assert.Equal(_f.Authority.KeyId, header.RootElement.GetProperty("kid").GetString());
        Assert.Equal("https://simulated-attestation.cleanroom.invalid/certs", header.RootElement.GetProperty("jku").GetString());
        using JsonDocument jwks = JsonDocument.Parse(_f.Authority.JwksJson);
        JsonElement jwk = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray().ToArray());
        Assert.Equal(_f.Authority.KeyId, jwk.GetProperty("kid").GetString());
        Assert.Equal(AttestationAuthority.SigningKeySizeBits / 8, System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("n").GetString()).Length);
        using JsonDocument metadata = JsonDocument.Parse(_f.Authority.OpenIdMetadataJson);
        Assert.Equal(_f.Authority.CertsUrl, metadata.RootElement.GetProperty("jwks_uri").GetString());
    }

    [Fact]
    public void Token_without_nonce_omits_the_claim()
    {
        string token = _f.Authority.Attest(Request(_f.Platform, nonce: null)).Token!;

        TokenValidationResult result = AttestationTokenValidator.Validate(token, _f.Authority.JwksJson, Options(nonce: null));

        Assert.True(result.IsValid, result.ToString());
        Assert.False(result.Claims.TryGetProperty("nonce", out _));
    }

    [Fact]
    public void Debuggable_vm_gets_no_token()
    {
        AttestResult result = _f.Authority.Attest(Request(_f.Platform, tweak: r => new SimulatedReportRequest { ReportData = r.ReportData, Policy = r.Policy | SnpGuestPolicy.DebugBit }));

        Assert.False(result.IsSuccess);
        Assert.Equal(AttestationPolicyErrorCodes.DebugNotAllowed, result.ErrorCode);
    }

    [Fact]
    public void Measurement_not_allowed_gets_no_token()
    {
        AttestResult result = _f.Authority.Attest(Request(_f.Platform, tweak: r => new SimulatedReportRequest { ReportData = r.ReportData, Measurement = new byte[48] }));

        Assert.Equal(AttestationPolicyErrorCodes.MeasurementNotAllowed, result.ErrorCode);
    }

    [Fact]
    public void Report_data_not_matching_runtime_data_gets_no_token()
    {
        SnpAttestRequest request = Request(_f.Platform);
        var swapped = new SnpAttestRequest
        {
            Report = request.Report,
            VcekCertChainPem = request.VcekCertChainPem,
            RuntimeData = Encoding.UTF8.GetBytes("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"attacker\"}]}"),
        };

        Assert.Equal(AttestationPolicyErrorCodes.ReportDataMismatch, _f.Authority.Attest(swapped).ErrorCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"keys\":[],\"keys\":[]}")]
    [InlineData("{\"keys\":[],\"x\":\"\\ud800\"}")]
    [InlineData("{\"keys\":[],\"\\udc00\":1}")]
    public void Runtime_data_that_is_not_a_json_object_gets_no_token(string runtime)
    {
        AttestResult result = _f.Authority.Attest(Request(_f.Platform, runtimeJson: runtime));

        Assert.Equal(AttestErrorCodes.RuntimeDataInvalid, result.ErrorCode);
    }

    [Fact]
    public void Tampered_report_gets_no_token()
    {
        SnpAttestRequest request = Request(_f.Platform);
        request.Report[0x090] ^= 1;

        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, _f.Authority.Attest(request).ErrorCode);
    }

    [Fact]
    public void Real_hardware_evidence_gets_no_token_from_the_simulated_authority()
    {
        var request = new SnpAttestRequest { Report = TestVectors.VirteeReport, VcekCertChainPem = TestVectors.VirteeChainPem, RuntimeData = "{}"u8.ToArray() };

        Assert.Equal(SnpErrorCodes.RootNotTrusted, _f.Authority.Attest(request).ErrorCode);
    }

    [Fact]
    public void Production_authority_refuses_the_debuggable_go_sev_guest_report()
    {
        AttestationPolicy policy = TestPolicies.Production;
        using var authority = new AttestationAuthority(policy, SnpTrustedRoots.Production, policy.Issuer, new FixedTimeProvider(TestVectors.VectorTime));

        AttestResult result = authority.Attest(new SnpAttestRequest { Report = TestVectors.GoSevGuestReport, VcekCertChainPem = TestVectors.GoSevGuestChainPem, RuntimeData = "{}"u8.ToArray() });

        Assert.Equal(AttestationPolicyErrorCodes.DebugNotAllowed, result.ErrorCode);
    }

    [Fact]
    public void Production_authority_refuses_simulated_evidence()
    {
        AttestationPolicy policy = TestPolicies.Production;
        using var authority = new AttestationAuthority(policy, SnpTrustedRoots.Production, policy.Issuer);

        Assert.Equal(SnpErrorCodes.RootNotTrusted, authority.Attest(Request(_f.Platform)).ErrorCode);
    }

    [Fact]
    public void Authority_refuses_a_policy_whose_root_kind_differs_from_its_roots()
    {
        AttestationPolicy production = TestPolicies.Production;
        AttestationPolicy simulated = TestPolicies.Simulated;

        Assert.Throws<ArgumentException>(() => new AttestationAuthority(production, _f.Platform.TrustedRoots, production.Issuer));
        Assert.Throws<ArgumentException>(() => new AttestationAuthority(simulated, SnpTrustedRoots.Production, simulated.Issuer));
        Assert.Throws<ArgumentException>(() => new AttestationAuthority(simulated, _f.Platform.TrustedRoots, "https://other.example"));
    }

    [Fact]
    public void Saved_signing_key_reloads_with_the_same_kid_and_mode_0600()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cleanroom-maa-" + Guid.NewGuid().ToString("N"));
        try
        {
            _f.Authority.SaveSigningKey(dir);
            AttestationPolicy policy = TestPolicies.Simulated;
            using AttestationAuthority loaded = AttestationAuthority.Load(dir, policy, _f.Platform.TrustedRoots, policy.Issuer, _f.Time);

            Assert.Equal(_f.Authority.KeyId, loaded.KeyId);
            TokenValidationResult result = AttestationTokenValidator.Validate(loaded.Attest(Request(_f.Platform)).Token!, _f.Authority.JwksJson, Options());
            Assert.True(result.IsValid, result.ToString());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, AttestationAuthority.SigningKeyFileName)));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

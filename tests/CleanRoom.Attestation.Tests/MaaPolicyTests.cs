using System.Text.Json;

namespace CleanRoom.Attestation.Tests;

public sealed class MaaPolicyTests
{
    private const string Policy = """
        version=1.0;
        authorizationrules {
            // refuse debuggable VMs outright
            c:[type=="x-ms-sevsnpvm-is-debuggable", value==true] => deny();
            [type=="x-ms-attestation-type", value=="sevsnpvm"] && [type=="x-ms-sevsnpvm-snpfw-svn", value>=8] && [type=="x-ms-sevsnpvm-vmpl", value==0] => permit();
        };
        issuancerules {
            c:[type=="x-ms-sevsnpvm-launchmeasurement"] => issue(type="measurement", value=c.value);
            d:[type=="x-ms-sevsnpvm-is-debuggable", value==false] => issue(claim=d);
            => issue(type="policy", value="cleanroom");
            [type=="missing-claim"] => issue(type="never", value=1);
        };
        """;

    private static JsonElement Claims(bool debuggable = false, int snp = 8, string type = "sevsnpvm") => JsonDocument.Parse($$"""
        {"x-ms-attestation-type":"{{type}}","x-ms-sevsnpvm-is-debuggable":{{(debuggable ? "true" : "false")}},"x-ms-sevsnpvm-snpfw-svn":{{snp}},"x-ms-sevsnpvm-vmpl":0,"x-ms-sevsnpvm-launchmeasurement":"abcd"}
        """).RootElement.Clone();

    private static MaaPolicy Parsed => MaaPolicy.Parse(Policy).Policy!;

    [Fact]
    public void Policy_parses_with_its_rules()
    {
        MaaPolicyParseResult result = MaaPolicy.Parse(Policy);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(2, result.Policy.AuthorizationRuleCount);
        Assert.Equal(4, result.Policy.IssuanceRuleCount);
    }

    [Fact]
    public void Matching_claims_are_permitted_and_issue_claims_in_rule_order()
    {
        MaaPolicyEvaluationResult result = Parsed.Evaluate(Claims());

        Assert.True(result.IsPermitted, result.ToString());
        Assert.Equal(["measurement", "x-ms-sevsnpvm-is-debuggable", "policy"], result.IssuedClaims.Select(c => c.Key));
        Assert.Equal("abcd", result.IssuedClaims[0].Value.GetString());
        Assert.False(result.IssuedClaims[1].Value.GetBoolean());
        Assert.Equal("cleanroom", result.IssuedClaims[2].Value.GetString());
    }

    [Fact]
    public void First_matching_deny_rule_refuses_a_debuggable_vm()
    {
        MaaPolicyEvaluationResult result = Parsed.Evaluate(Claims(debuggable: true));

        Assert.False(result.IsPermitted);
        Assert.Equal(MaaPolicyEvaluationResult.DeniedErrorCode, result.ErrorCode);
        Assert.Empty(result.IssuedClaims);
    }

    [Fact]
    public void No_matching_rule_means_deny()
    {
        Assert.False(Parsed.Evaluate(Claims(snp: 7)).IsPermitted);
        Assert.False(Parsed.Evaluate(Claims(type: "sgx")).IsPermitted);
    }

    [Fact]
    public void Policy_without_authorization_rules_denies_everything()
    {
        Assert.False(MaaPolicy.Parse("version=1.0; issuancerules { => issue(type=\"a\", value=1); };").Policy!.Evaluate(Claims()).IsPermitted);
    }

    [Fact]
    public void Type_mismatch_in_a_condition_does_not_hold()
    {
        MaaPolicy policy = MaaPolicy.Parse("version=1.0; authorizationrules { [type==\"x-ms-sevsnpvm-snpfw-svn\", value!=\"8\"] => permit(); };").Policy!;

        Assert.False(policy.Evaluate(Claims()).IsPermitted);
    }

    [Theory]
    [InlineData("")]
    [InlineData("version=2.0;")]
    [InlineData("version=1.0; authorizationrules { => permit() };")]
    [InlineData("version=1.0; authorizationrules { [type==\"a\", value<\"x\"] => permit(); };")]
    [InlineData("version=1.0; authorizationrules { => issue(type=\"a\", value=1); };")]
    [InlineData("version=1.0; issuancerules { => permit(); };")]
    [InlineData("version=1.0; issuancerules { [type==\"a\"] => issue(type=\"b\", value=c.value); };")]
    [InlineData("version=1.0; authorizationrules { }; authorizationrules { };")]
    [InlineData("version=1.0; authorizationrules { [type==\"a] => permit(); };")]
    [InlineData("version=1.0; authorizationrules { [type==\"a\"] => allowall(); };")]
    [InlineData("version=1.0; authorizationrules { [type==\"a\"] | [type==\"b\"] => permit(); };")]
    public void Malformed_policy_is_refused_with_a_position(string text)
    {
        MaaPolicyParseResult result = MaaPolicy.Parse(text);

        Assert.False(result.IsValid);
        Assert.Equal(MaaPolicyParseResult.MalformedErrorCode, result.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Fact]
    public void Policy_evaluates_over_claims_of_a_real_attestation_token()
    {
        using var fixture = new AuthorityFixture();
        string token = fixture.Authority.Attest(AttestationAuthorityTests.Request(fixture.Platform)).Token!;
        TokenValidationResult validated = AttestationTokenValidator.Validate(token, fixture.Authority.JwksJson, new TokenValidationOptions
        {
            ExpectedIssuer = fixture.Authority.Issuer,
            AllowSimulated = true,
            ExpectedNonce = "n-123",
            TimeProvider = fixture.Time,
        });

        MaaPolicyEvaluationResult result = Parsed.Evaluate(validated.Claims);

        Assert.True(result.IsPermitted, result.ToString());
        Assert.Equal(Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement), result.IssuedClaims[0].Value.GetString());
    }

    [Fact]
    public void Shipped_production_maa_policy_refuses_simulated_tokens_and_permits_the_same_claims_from_real_hardware()
    {
        MaaPolicyParseResult parsed = MaaPolicy.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Policies", "production-sevsnp.maa")));
        Assert.True(parsed.IsValid, parsed.ToString());
        using var fixture = new AuthorityFixture();
        string token = fixture.Authority.Attest(AttestationAuthorityTests.Request(fixture.Platform)).Token!;
        JsonElement claims = AttestationTokenValidator.Validate(token, fixture.Authority.JwksJson, new TokenValidationOptions
        {
            ExpectedIssuer = fixture.Authority.Issuer,
            AllowSimulated = true,
            TimeProvider = fixture.Time,
        }).Claims;
        var real = System.Text.Json.Nodes.JsonNode.Parse(claims.GetRawText())!.AsObject();
        real.Remove("x-cleanroom-simulated");
        var debuggable = System.Text.Json.Nodes.JsonNode.Parse(real.ToJsonString())!.AsObject();
        debuggable["x-ms-sevsnpvm-is-debuggable"] = true;

        Assert.False(parsed.Policy.Evaluate(claims).IsPermitted);
        Assert.True(parsed.Policy.Evaluate(JsonDocument.Parse(real.ToJsonString()).RootElement).IsPermitted);
        Assert.False(parsed.Policy.Evaluate(JsonDocument.Parse(debuggable.ToJsonString()).RootElement).IsPermitted);
    }
}

namespace CleanRoom.KeyRelease.Tests;

public sealed class ReleasePolicyTests
{
    private const string Authority = "https://sharedeus.eus.attest.azure.net";

    private static string Policy(string conditions, string group = "allOf", string authority = Authority) =>
        $$"""{"version":"1.0.0","anyOf":[{"authority":"{{authority}}","{{group}}":[{{conditions}}]}]}""";

    private static ReleasePolicy ParseOk(string json)
    {
        var result = ReleasePolicy.Parse(json);
        Assert.True(result.IsSuccess, result.Reason);
        return result.Policy!;
    }

    private static ReleaseDecision Evaluate(string conditions, string? claims = null, string group = "allOf") =>
        ParseOk(Policy(conditions, group)).Evaluate(claims is null ? TestKeys.TokenClaims() : TestKeys.Parse(claims));

    [Fact]
    public void Confidential_vm_sample_policy_allows_a_matching_token()
    {
        var decision = Evaluate("""
            {"claim":"x-ms-attestation-type","equals":"sevsnpvm"},
            {"claim":"x-ms-compliance-status","equals":"azure-compliant-cvm"},
            {"claim":"x-ms-sevsnpvm-is-debuggable","equals":"false"}
            """);
        Assert.True(decision.IsAllowed, decision.Reason);
        Assert.Null(decision.ErrorCode);
    }

    [Theory]
    [InlineData("equals", "\"sevsnpvm\"", "x-ms-attestation-type", true)]
    [InlineData("equals", "\"tdxvm\"", "x-ms-attestation-type", false)]
    [InlineData("equals", "\"SEVSNPVM\"", "x-ms-attestation-type", false)]
    [InlineData("notEquals", "\"tdxvm\"", "x-ms-attestation-type", true)]
    [InlineData("notEquals", "\"sevsnpvm\"", "x-ms-attestation-type", false)]
    [InlineData("less", "4", "x-ms-sevsnpvm-guestsvn", true)]
    [InlineData("less", "3", "x-ms-sevsnpvm-guestsvn", false)]
    [InlineData("lessOrEquals", "3", "x-ms-sevsnpvm-guestsvn", true)]
    [InlineData("lessOrEquals", "2", "x-ms-sevsnpvm-guestsvn", false)]
    [InlineData("greater", "2", "x-ms-sevsnpvm-guestsvn", true)]
    [InlineData("greater", "3", "x-ms-sevsnpvm-guestsvn", false)]
    [InlineData("greaterOrEquals", "3", "x-ms-sevsnpvm-guestsvn", true)]
    [InlineData("greaterOrEquals", "4", "x-ms-sevsnpvm-guestsvn", false)]
    [InlineData("exists", "true", "x-ms-sevsnpvm-launchmeasurement", true)]
    [InlineData("exists", "true", "x-ms-sevsnpvm-not-a-claim", false)]
    public void Each_operator_is_met_or_not_met(string op, string value, string claim, bool expected)
    {
        var decision = Evaluate($$"""{"claim":"{{claim}}","{{op}}":{{value}}}""");
        Assert.Equal(expected, decision.IsAllowed);
        if (!expected)
        {
            Assert.Equal(KeyReleaseErrorCodes.PolicyConditionNotMet, decision.ErrorCode);
            Assert.Equal(claim, decision.UnmetClaim);
            Assert.Equal(op, decision.UnmetOperator);
        }
    }

    [Theory]
    [InlineData("\"false\"", true)]
    [InlineData("false", true)]
    [InlineData("\"False\"", true)]
    [InlineData("\"true\"", false)]
    [InlineData("true", false)]
    [InlineData("\"0\"", false)]
    [InlineData("0", false)]
    public void Boolean_claims_compare_with_booleans_and_boolean_strings(string value, bool expected) =>
        Assert.Equal(expected, Evaluate($$"""{"claim":"x-ms-sevsnpvm-is-debuggable","equals":{{value}}}""").IsAllowed);

    [Theory]
    [InlineData("equals", "\"0\"", true)]
    [InlineData("equals", "0", true)]
    [InlineData("equals", "\"0.0\"", true)]
    [InlineData("equals", "\"1\"", false)]
    [InlineData("equals", "\"zero\"", false)]
    [InlineData("notEquals", "\"1\"", true)]
    [InlineData("lessOrEquals", "\"0\"", true)]
    [InlineData("greater", "\"0\"", false)]
    public void Integer_claims_compare_with_numbers_and_numeric_strings(string op, string value, bool expected) =>
        Assert.Equal(expected, Evaluate($$"""{"claim":"x-ms-sevsnpvm-vmpl","{{op}}":{{value}}}""").IsAllowed);

    [Theory]
    [InlineData("equals", "5", true)]
    [InlineData("greaterOrEquals", "5", true)]
    [InlineData("greater", "\"5\"", false)]
    [InlineData("equals", "true", false)]
    public void String_claims_holding_numbers_compare_numerically_with_numbers(string op, string value, bool expected) =>
        Assert.Equal(expected, Evaluate($$"""{"claim":"svn","{{op}}":{{value}}}""",
            $$"""{"iss":"{{Authority}}","svn":"5"}""").IsAllowed);

    [Theory]
    [InlineData("6.99999999999999999999999999999")]
    [InlineData("\"6.99999999999999999999999999999\"")]
    [InlineData("6.9999999999999999999999999999999999999999")]
    public void A_claim_just_below_the_bound_does_not_meet_greaterOrEquals_however_many_digits_it_has(string svn) =>
        Assert.False(Evaluate("""{"claim":"svn","greaterOrEquals":7}""", $$"""{"iss":"{{Authority}}","svn":{{svn}}}""").IsAllowed,
            "a claim value below 7 satisfied greaterOrEquals 7 after rounding");

    [Fact]
    public void A_claim_just_above_the_bound_does_not_meet_lessOrEquals_however_many_digits_it_has() =>
        Assert.False(Evaluate("""{"claim":"svn","lessOrEquals":7}""",
            $$"""{"iss":"{{Authority}}","svn":7.00000000000000000000000000001}""").IsAllowed);

    [Theory]
    [InlineData("1e-400")]
    [InlineData("0.00000000000000000000000000000001")]
    public void A_nonzero_claim_too_small_for_decimal_does_not_equal_zero(string vmpl) =>
        Assert.False(Evaluate("""{"claim":"vmpl","equals":0}""", $$"""{"iss":"{{Authority}}","vmpl":{{vmpl}}}""").IsAllowed,
            "a non-zero claim value compared equal to 0 after rounding");

    [Theory]
    [InlineData("\"1\"", true)]
    [InlineData("\"01\"", true)]
    [InlineData("\"+1\"", true)]
    [InlineData("\"1.0\"", true)]
    [InlineData("\"1.\"", true)]
    [InlineData("\"1.000000000000000000000000000000000001\"", false)]
    [InlineData("\"1e0\"", false)]
    [InlineData("\" 1\"", false)]
    [InlineData("\"1 \"", false)]
    [InlineData("1.0", true)]
    [InlineData("1E0", true)]
    [InlineData("10e-1", true)]
    [InlineData("0.1e1", true)]
    public void Numbers_and_numeric_strings_equal_a_number_in_every_accepted_spelling(string svn, bool expected) =>
        Assert.Equal(expected, Evaluate("""{"claim":"svn","equals":1}""", $$"""{"iss":"{{Authority}}","svn":{{svn}}}""").IsAllowed);

    [Theory]
    [InlineData("greater", "1", "1e400", true)]
    [InlineData("greater", "1", "79228162514264337593543950336", true)]
    [InlineData("less", "1", "-1e400", true)]
    [InlineData("greater", "1", "1e1001", false)]
    [InlineData("less", "1", "1e1001", false)]
    [InlineData("notEquals", "0", "1e-1001", false)]
    public void Numbers_beyond_decimal_range_compare_up_to_the_exponent_bound_and_are_not_met_beyond_it(string op, string value, string svn, bool expected) =>
        Assert.Equal(expected, Evaluate($$"""{"claim":"svn","{{op}}":{{value}}}""", $$"""{"iss":"{{Authority}}","svn":{{svn}}}""").IsAllowed);

    [Fact]
    public void String_claim_equals_true_literal_when_it_spells_true() =>
        Assert.True(Evaluate("""{"claim":"flag","equals":true}""", $$"""{"iss":"{{Authority}}","flag":"true"}""").IsAllowed);

    [Fact]
    public void Not_equals_on_an_incomparable_claim_is_not_met()
    {
        var decision = Evaluate("""{"claim":"x-ms-attestation-type","notEquals":5}""");
        Assert.False(decision.IsAllowed);
        Assert.Equal("notEquals", decision.UnmetOperator);
    }

    [Theory]
    [InlineData("equals", "\"x\"")]
    [InlineData("notEquals", "\"x\"")]
    [InlineData("less", "1")]
    [InlineData("greaterOrEquals", "1")]
    [InlineData("exists", "true")]
    public void A_missing_claim_is_not_met_for_every_operator(string op, string value)
    {
        var decision = Evaluate($$"""{"claim":"x-ms-missing","{{op}}":{{value}}}""");
        Assert.False(decision.IsAllowed);
        Assert.Equal("x-ms-missing", decision.UnmetClaim);
    }

    [Fact]
    public void A_null_claim_is_treated_as_missing() =>
        Assert.False(Evaluate("""{"claim":"c","exists":true}""", $$"""{"iss":"{{Authority}}","c":null}""").IsAllowed);

    [Fact]
    public void Dot_paths_reach_into_nested_objects()
    {
        Assert.True(Evaluate("""{"claim":"x-ms-runtime.client-payload.nonce","equals":"abc"}""").IsAllowed);
        Assert.False(Evaluate("""{"claim":"x-ms-runtime.client-payload.nonce","equals":"abd"}""").IsAllowed);
        Assert.False(Evaluate("""{"claim":"x-ms-runtime.client-payload.nonce.deeper","exists":true}""").IsAllowed);
    }

    [Fact]
    public void Dot_paths_do_not_index_arrays() =>
        Assert.False(Evaluate("""{"claim":"x-ms-runtime.keys.0.kid","exists":true}""").IsAllowed);

    [Fact]
    public void Objects_and_arrays_never_equal_a_scalar()
    {
        Assert.False(Evaluate("""{"claim":"x-ms-runtime","equals":"x"}""").IsAllowed);
        Assert.False(Evaluate("""{"claim":"x-ms-runtime","notEquals":"x"}""").IsAllowed);
        Assert.True(Evaluate("""{"claim":"x-ms-runtime","exists":true}""").IsAllowed);
    }

    [Fact]
    public void All_of_names_the_first_unmet_condition()
    {
        var decision = Evaluate("""
            {"claim":"x-ms-attestation-type","equals":"sevsnpvm"},
            {"claim":"x-ms-sevsnpvm-is-debuggable","equals":true},
            {"claim":"x-ms-sevsnpvm-guestsvn","greater":100}
            """);
        Assert.False(decision.IsAllowed);
        Assert.Equal("x-ms-sevsnpvm-is-debuggable", decision.UnmetClaim);
        Assert.Equal("equals", decision.UnmetOperator);
        Assert.Contains("x-ms-sevsnpvm-is-debuggable", decision.Reason);
        Assert.DoesNotContain("false", decision.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Any_of_is_met_by_one_branch() =>
        Assert.True(Evaluate("""
            {"claim":"x-ms-attestation-type","equals":"tdxvm"},
            {"claim":"x-ms-attestation-type","equals":"sevsnpvm"}
            """, group: "anyOf").IsAllowed);

    [Fact]
    public void Any_of_with_no_branch_met_names_the_first_branch()
    {
        var decision = Evaluate("""
            {"claim":"x-ms-attestation-type","equals":"tdxvm"},
            {"claim":"x-ms-sevsnpvm-guestsvn","greater":10}
            """, group: "anyOf");
        Assert.False(decision.IsAllowed);
        Assert.Equal("x-ms-attestation-type", decision.UnmetClaim);
    }

    [Fact]
    public void Nested_groups_evaluate_recursively()
    {
        const string nested = """
            {"claim":"x-ms-attestation-type","equals":"sevsnpvm"},
            {"anyOf":[
                {"claim":"x-ms-sevsnpvm-guestsvn","greaterOrEquals":10},
                {"allOf":[
                    {"claim":"x-ms-sevsnpvm-vmpl","equals":0},
                    {"claim":"x-ms-sevsnpvm-is-debuggable","equals":"false"}
                ]}
            ]}
            """;
        Assert.True(Evaluate(nested).IsAllowed);

        var denied = Evaluate(nested.Replace("\"equals\":0", "\"equals\":1", StringComparison.Ordinal));
        Assert.False(denied.IsAllowed);
        Assert.Equal("x-ms-sevsnpvm-guestsvn", denied.UnmetClaim);
    }

    [Theory]
    [InlineData("https://sharedeus.eus.attest.azure.net/")]
    [InlineData("HTTPS://SharedEus.EUS.attest.azure.net")]
    [InlineData("https://sharedeus.eus.attest.azure.net:443")]
    public void Authority_matches_issuer_ignoring_trailing_slash_and_scheme_host_case(string issuer) =>
        Assert.True(ParseOk(Policy("""{"claim":"x-ms-attestation-type","equals":"sevsnpvm"}"""))
            .Evaluate(TestKeys.TokenClaims(issuer)).IsAllowed);

    [Theory]
    [InlineData("https://evil.attest.azure.net")]
    [InlineData("http://sharedeus.eus.attest.azure.net")]
    [InlineData("https://sharedeus.eus.attest.azure.net/other")]
    [InlineData("https://sharedeus.eus.attest.azure.net:8443")]
    public void A_token_from_another_authority_is_denied(string issuer)
    {
        var decision = ParseOk(Policy("""{"claim":"x-ms-attestation-type","equals":"sevsnpvm"}""")).Evaluate(TestKeys.TokenClaims(issuer));
        Assert.False(decision.IsAllowed);
        Assert.Equal(KeyReleaseErrorCodes.PolicyAuthorityMismatch, decision.ErrorCode);
    }

    [Fact]
    public void Authority_path_is_case_sensitive()
    {
        var policy = ParseOk(Policy("""{"claim":"x-ms-attestation-type","equals":"sevsnpvm"}""", authority: "https://maa.example/Tenant"));
        Assert.True(policy.Evaluate(TestKeys.TokenClaims("https://maa.example/Tenant/")).IsAllowed);
        Assert.False(policy.Evaluate(TestKeys.TokenClaims("https://maa.example/tenant")).IsAllowed);
    }

    [Fact]
    public void The_matching_authority_among_several_decides()
    {
        var policy = ParseOk($$"""
            {"version":"1.0.0","anyOf":[
              {"authority":"https://other.attest.azure.net","allOf":[{"claim":"x-ms-attestation-type","exists":true}]},
              {"authority":"{{Authority}}","allOf":[{"claim":"x-ms-sevsnpvm-vmpl","equals":"0"}]}
            ]}
            """);
        Assert.True(policy.Evaluate(TestKeys.TokenClaims()).IsAllowed);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"iss":5}""")]
    [InlineData("""{"iss":"not a url"}""")]
    [InlineData("""[]""")]
    public void Claims_without_a_usable_issuer_are_denied(string claims)
    {
        var decision = ParseOk(Policy("""{"claim":"a","exists":true}""")).Evaluate(TestKeys.Parse(claims));
        Assert.False(decision.IsAllowed);
        Assert.Equal(KeyReleaseErrorCodes.PolicyClaimsInvalid, decision.ErrorCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}],}""")]
    [InlineData("""{"version":"1.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"0.2","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0"}""")]
    [InlineData("""{"version":"1.0.0","allOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}]}],"extra":1}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example"}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b"}],"anyOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"a.example","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example?x=1","allOf":[{"claim":"a","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b","notEquals":"c"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a..b","equals":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":null}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":["b"]}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","less":"abc"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","less":1e1001}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","exists":false}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"allOf":[{"claim":"a","exists":true}],"claim":"b"}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"b","claim":"c"}]}]}""")]
    public void A_malformed_policy_fails_to_parse(string json)
    {
        var result = ReleasePolicy.Parse(json);
        Assert.False(result.IsSuccess);
        Assert.Null(result.Policy);
        Assert.Equal(KeyReleaseErrorCodes.PolicyMalformed, result.ErrorCode);
        Assert.DoesNotContain('\n', result.Reason!);
    }

    [Theory]
    [InlineData("startsWith")]
    [InlineData("Equals")]
    [InlineData("contains")]
    [InlineData("in")]
    public void An_unknown_operator_fails_to_parse(string op)
    {
        var result = ReleasePolicy.Parse(Policy($$"""{"claim":"x-ms-attestation-type","{{op}}":"sevsnpvm"}"""));
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.PolicyMalformed, result.ErrorCode);
        Assert.Contains(op, result.Reason);
    }

    [Theory]
    [InlineData("""{"version":"1.0.0","anyOf":[]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","anyOf":[]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"anyOf":[]}]}]}""")]
    public void An_empty_list_is_refused_as_malformed_rather_than_read_as_allow_all(string json)
    {
        var result = ReleasePolicy.Parse(json);
        Assert.False(result.IsSuccess);
        Assert.Contains("non-empty", result.Reason);
    }

    [Fact]
    public void Parsed_policy_keeps_its_original_text()
    {
        var json = Policy("""{"claim":"a","exists":true}""");
        Assert.Equal(json, ParseOk(json).Json);
    }

    [Theory]
    [InlineData("""{"version":"\ud800","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":1}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example\ud800","allOf":[{"claim":"a","equals":1}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"\ud800","equals":1}]}]}""")]
    [InlineData("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"\udc00"}]}]}""")]
    [InlineData("""{"\ud800":1,"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":1}]}]}""")]
    public void A_policy_escaping_a_lone_surrogate_is_malformed_not_thrown(string json)
    {
        var parsed = ReleasePolicy.Parse(json);
        Assert.False(parsed.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.PolicyMalformed, parsed.ErrorCode);
    }

    [Theory]
    [InlineData("""{"iss":"\ud800","a":"x"}""")]
    [InlineData("""{"iss":"https://a.example","a":"\ud800"}""")]
    public void Claims_escaping_a_lone_surrogate_are_denied_not_thrown(string claims)
    {
        var policy = ReleasePolicy.Parse("""{"version":"1.0.0","anyOf":[{"authority":"https://a.example","allOf":[{"claim":"a","equals":"x"}]}]}""").Policy!;
        var decision = policy.Evaluate(TestKeys.Parse(claims));
        Assert.False(decision.IsAllowed);
        Assert.Equal(KeyReleaseErrorCodes.PolicyClaimsInvalid, decision.ErrorCode);
    }
}

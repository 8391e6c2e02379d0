namespace CleanRoom.KeyRelease.Tests;

public sealed class ExportableKeyRecordTests
{
    private const string Kid = "https://broker.local/keys/kek-1/0123";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_750_000_000);

    private const string Policy = """{"version":"1.0.0","anyOf":[{"authority":"https://sharedeus.eus.attest.azure.net","allOf":[{"claim":"x-ms-attestation-type","equals":"sevsnpvm"},{"claim":"x-ms-sevsnpvm-is-debuggable","equals":"false"}]}]}""";

    private const string OtherPolicy = """{"version":"1.0.0","anyOf":[{"authority":"https://sharedeus.eus.attest.azure.net","allOf":[{"claim":"x-ms-attestation-type","equals":"tdxvm"}]}]}""";

    private static ExportableKeyRecord Exportable(bool immutable = false)
    {
        var result = ExportableKeyRecord.CreateExportable(Kid, TestKeys.Kek, Policy, immutable, Now);
        Assert.True(result.IsSuccess, result.Reason);
        return result.Value;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Exportable_key_without_a_policy_is_refused(string? policy)
    {
        var result = ExportableKeyRecord.CreateExportable(Kid, TestKeys.Kek, policy, false, Now);
        Assert.Equal(KeyReleaseErrorCodes.KeyPolicyRequired, result.ErrorCode);
    }

    [Fact]
    public void Exportable_key_with_a_malformed_policy_is_refused() =>
        Assert.Equal(KeyReleaseErrorCodes.PolicyMalformed,
            ExportableKeyRecord.CreateExportable(Kid, TestKeys.Kek, """{"version":"1.0.0","anyOf":[]}""", false, Now).ErrorCode);

    [Fact]
    public void Mutable_policy_can_be_replaced_and_then_made_immutable()
    {
        var changed = Exportable().WithReleasePolicy(OtherPolicy, immutable: true, Now.AddMinutes(1));
        Assert.True(changed.IsSuccess, changed.Reason);
        Assert.Equal(OtherPolicy, changed.Value.ReleasePolicy!.Json);
        Assert.True(changed.Value.ReleasePolicyImmutable);
        Assert.Equal(Now.AddMinutes(1), changed.Value.Updated);
        Assert.Equal(Now, changed.Value.Created);
    }

    [Fact]
    public void Immutable_policy_change_is_refused()
    {
        var record = Exportable(immutable: true);
        var changed = record.WithReleasePolicy(OtherPolicy, immutable: false, Now);
        Assert.False(changed.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyPolicyImmutable, changed.ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.KeyPolicyImmutable, record.WithReleasePolicy(Policy, immutable: true, Now).ErrorCode);
        Assert.Equal(Policy, record.ReleasePolicy!.Json);
    }

    [Fact]
    public void Non_exportable_key_release_is_refused()
    {
        var record = ExportableKeyRecord.CreateNonExportable(Kid, TestKeys.Kek, Now);
        var result = record.Release(TestKeys.TokenClaims(), new ReleaseRequest("t", "n", KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyNotExportable, result.ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.KeyNotExportable, record.WithReleasePolicy(Policy, false, Now).ErrorCode);
    }

    [Fact]
    public void Release_to_a_satisfying_token_wraps_the_kek_to_the_runtime_key()
    {
        var record = Exportable(immutable: true);
        var released = record.Release(TestKeys.TokenClaims(), new ReleaseRequest("t", "n-9", KeyWrapAlgorithm.RsaAesKeyWrap384));
        Assert.True(released.IsSuccess, released.Reason);

        var jws = released.Value.Sign(TestKeys.Broker, "broker");
        var verified = KeyReleaseResponse.Verify(jws, TestKeys.Broker, "n-9");
        Assert.True(verified.IsSuccess, verified.Reason);
        Assert.Equal(Kid, verified.Value.Kid);
        Assert.True(verified.Value.ReleasePolicyImmutable);
        Assert.Equal(Policy, verified.Value.ReleasePolicyJson);

        using var opened = KeyHsmEnvelope.TryOpen(verified.Value.KeyHsm, TestKeys.Enclave);
        Assert.True(opened.IsSuccess, opened.Reason);
        Assert.Equal(KeyWrapAlgorithm.RsaAesKeyWrap384, opened.Algorithm);
        Assert.True(RsaTargetKey.TryImport(opened.Key, out var kek));
        using (kek)
        {
            Assert.Equal(verified.Value.Modulus, kek.ExportParameters(false).Modulus);
            Assert.Equal(TestKeys.Kek.ExportParameters(false).Modulus, kek.ExportParameters(false).Modulus);
        }
    }

    [Fact]
    public void Release_to_a_token_that_fails_the_policy_is_denied_naming_the_claim()
    {
        var claims = TestKeys.Parse(TestKeys.TokenClaimsJson().Replace("\"x-ms-sevsnpvm-is-debuggable\": false", "\"x-ms-sevsnpvm-is-debuggable\": true", StringComparison.Ordinal));
        var result = Exportable().Release(claims, new ReleaseRequest("t", null, KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.Equal(KeyReleaseErrorCodes.PolicyConditionNotMet, result.ErrorCode);
        Assert.Contains("x-ms-sevsnpvm-is-debuggable", result.Reason);
    }

    [Fact]
    public void Release_without_a_runtime_key_is_refused()
    {
        var claims = TestKeys.Parse("""{"iss":"https://sharedeus.eus.attest.azure.net","x-ms-attestation-type":"sevsnpvm","x-ms-sevsnpvm-is-debuggable":false}""");
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeysMissing,
            Exportable().Release(claims, new ReleaseRequest("t", null, KeyWrapAlgorithm.RsaAesKeyWrap256)).ErrorCode);
    }

    [Fact]
    public void Json_round_trip_keeps_every_field()
    {
        var record = Exportable(immutable: true);
        var restored = ExportableKeyRecord.FromJson(record.ToJson());
        Assert.True(restored.IsSuccess, restored.Reason);
        Assert.Equal(record.Kid, restored.Value.Kid);
        Assert.True(restored.Value.Exportable);
        Assert.True(restored.Value.ReleasePolicyImmutable);
        Assert.Equal(Policy, restored.Value.ReleasePolicy!.Json);
        Assert.Equal(record.KeyOps, restored.Value.KeyOps);
        Assert.Equal(record.Modulus, restored.Value.Modulus);
        Assert.Equal(Now, restored.Value.Created);
        Assert.Equal(record.ToJson(), restored.Value.ToJson());

        var nonExportable = ExportableKeyRecord.FromJson(ExportableKeyRecord.CreateNonExportable(Kid, TestKeys.Kek, Now).ToJson());
        Assert.True(nonExportable.IsSuccess, nonExportable.Reason);
        Assert.False(nonExportable.Value.Exportable);
        Assert.Null(nonExportable.Value.ReleasePolicy);
    }

    [Fact]
    public void Json_that_breaks_an_invariant_is_refused()
    {
        var json = Exportable().ToJson();
        using var document = JsonDocument.Parse(json);
        var policyData = document.RootElement.GetProperty("release_policy").GetProperty("data").GetString()!;

        Assert.Equal(KeyReleaseErrorCodes.KeyRecordMalformed,
            ExportableKeyRecord.FromJson(json.Replace("\"exportable\":true", "\"exportable\":false", StringComparison.Ordinal)).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.KeyRecordMalformed,
            ExportableKeyRecord.FromJson(json.Replace(policyData, TestKeys.B64("{}"u8.ToArray()), StringComparison.Ordinal)).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.KeyRecordMalformed,
            ExportableKeyRecord.FromJson(json.Replace("\"record_version\":1", "\"record_version\":2", StringComparison.Ordinal)).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.KeyRecordMalformed, ExportableKeyRecord.FromJson("{").ErrorCode);
    }

    [Theory]
    [InlineData("\"record_version\":1", "\"record_version\":\"1\"")]
    [InlineData("\"record_version\":1", "\"record_version\":true")]
    [InlineData("\"created\":", "\"created\":\"x\",\"_c\":")]
    [InlineData("\"updated\":", "\"updated\":[1],\"_u\":")]
    public void Json_with_a_number_field_of_another_type_is_refused_as_malformed(string from, string to)
    {
        var json = Exportable().ToJson();
        Assert.Contains(from, json, StringComparison.Ordinal);

        var result = ExportableKeyRecord.FromJson(json.Replace(from, to, StringComparison.Ordinal));

        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyRecordMalformed, result.ErrorCode);
    }

    [Fact]
    public void To_string_redacts_the_key() =>
        Assert.Contains("<redacted>", Exportable().ToString(), StringComparison.Ordinal);
}

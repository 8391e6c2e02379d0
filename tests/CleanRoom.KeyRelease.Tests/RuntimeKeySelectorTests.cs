using System.Security.Cryptography;

namespace CleanRoom.KeyRelease.Tests;

public sealed class RuntimeKeySelectorTests
{
    private static string Jwk(RSA key, string kid, string extra)
    {
        var p = key.ExportParameters(false);
        return $$"""{"kid":"{{kid}}","kty":"RSA",{{extra}}"n":"{{TestKeys.B64(p.Modulus!)}}","e":"{{TestKeys.B64(p.Exponent!)}}"}""";
    }

    private static JsonElement Claims(params string[] keys) =>
        TestKeys.Parse($$$"""{"iss":"https://a.example","x-ms-runtime":{"keys":[{{{string.Join(",", keys)}}}]}}""");

    [Fact]
    public void Selects_the_first_rsa_key_with_encrypt_in_key_ops()
    {
        using var selection = RuntimeKeySelector.Select(Claims(
            """{"kid":"ec","kty":"EC","key_ops":["encrypt"],"crv":"P-256","x":"AA","y":"AA"}""",
            Jwk(TestKeys.Other, "sign-only", "\"key_ops\":[\"sign\"],"),
            Jwk(TestKeys.Enclave, "enc", "\"key_ops\":[\"sign\",\"encrypt\"],"),
            Jwk(TestKeys.Kek, "later", "\"key_ops\":[\"encrypt\"],")));
        Assert.True(selection.IsSuccess, selection.Reason);
        Assert.Equal("enc", selection.Kid);
        Assert.Equal(TestKeys.Enclave.ExportParameters(false).Modulus, selection.Key.ExportParameters(false).Modulus);
    }

    [Fact]
    public void A_key_selected_again_is_the_same_imported_key_and_survives_an_earlier_selections_dispose()
    {
        var claims = Claims(Jwk(TestKeys.Enclave, "first", "\"key_ops\":[\"encrypt\"],"));
        RSA first;
        using (var selection = RuntimeKeySelector.Select(claims))
        {
            first = selection.Key!;
        }

        using var again = RuntimeKeySelector.Select(Claims(Jwk(TestKeys.Enclave, "second", "\"key_ops\":[\"encrypt\"],")));
        Assert.Same(first, again.Key);
        Assert.Equal("second", again.Kid); // the kid comes from this token, not from the cache
        Assert.Equal(TestKeys.Enclave.ExportParameters(false).Modulus, again.Key!.ExportParameters(false).Modulus);
        using var other = RuntimeKeySelector.Select(Claims(Jwk(TestKeys.Other, "o", "\"use\":\"enc\",")));
        Assert.NotSame(first, other.Key);
    }

    [Fact]
    public void Selects_a_key_marked_use_enc()
    {
        using var selection = RuntimeKeySelector.Select(Claims(Jwk(TestKeys.Enclave, "u", "\"use\":\"enc\",")));
        Assert.True(selection.IsSuccess);
        Assert.Equal("u", selection.Kid);
    }

    [Fact]
    public void Default_token_claims_select_the_enclave_key()
    {
        using var selection = RuntimeKeySelector.Select(TestKeys.TokenClaims());
        Assert.Equal("TpmEphemeralEncryptionKey", selection.Kid);
    }

    [Fact]
    public void No_encryption_key_is_a_typed_failure()
    {
        using var selection = RuntimeKeySelector.Select(Claims(Jwk(TestKeys.Enclave, "s", "\"use\":\"sig\",")));
        Assert.False(selection.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeyNotFound, selection.ErrorCode);
    }

    [Theory]
    [InlineData("""{"iss":"https://a.example"}""")]
    [InlineData("""{"x-ms-runtime":{"keys":{}}}""")]
    [InlineData("""{"x-ms-runtime":"keys"}""")]
    public void Missing_runtime_keys_is_a_typed_failure(string claims)
    {
        using var selection = RuntimeKeySelector.Select(TestKeys.Parse(claims));
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeysMissing, selection.ErrorCode);
    }

    [Fact]
    public void A_small_or_broken_first_key_is_refused_not_skipped()
    {
        using var small = RSA.Create(1024);
        using var selection = RuntimeKeySelector.Select(Claims(Jwk(small, "small", "\"key_ops\":[\"encrypt\"],"), Jwk(TestKeys.Enclave, "ok", "\"key_ops\":[\"encrypt\"],")));
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeyInvalid, selection.ErrorCode);

        using var broken = RuntimeKeySelector.Select(Claims("""{"kty":"RSA","key_ops":["encrypt"],"n":"!!","e":"AQAB"}"""));
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeyInvalid, broken.ErrorCode);
    }

    [Fact]
    public void A_runtime_key_escaping_a_lone_surrogate_is_refused_not_thrown()
    {
        using var selection = RuntimeKeySelector.Select(Claims(Jwk(TestKeys.Enclave, "\\ud800", "\"use\":\"enc\",")));
        Assert.Equal(KeyReleaseErrorCodes.RuntimeKeyInvalid, selection.ErrorCode);
    }
}

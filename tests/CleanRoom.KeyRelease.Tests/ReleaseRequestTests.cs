namespace CleanRoom.KeyRelease.Tests;

public sealed class ReleaseRequestTests
{
    [Fact]
    public void Request_serializes_to_the_key_vault_body_and_parses_back()
    {
        var request = new ReleaseRequest("eyJ.token.sig", "nonce-1", KeyWrapAlgorithm.RsaAesKeyWrap384);
        Assert.Equal("""{"target":"eyJ.token.sig","nonce":"nonce-1","enc":"RSA_AES_KEY_WRAP_384"}""", request.ToJson());
        var parsed = ReleaseRequest.Parse(request.ToJson());
        Assert.True(parsed.IsSuccess, parsed.Reason);
        Assert.Equal("eyJ.token.sig", parsed.Value.Target);
        Assert.Equal("nonce-1", parsed.Value.Nonce);
        Assert.Equal(KeyWrapAlgorithm.RsaAesKeyWrap384, parsed.Value.Enc);
    }

    [Fact]
    public void Nonce_is_optional()
    {
        var request = new ReleaseRequest("t", null, KeyWrapAlgorithm.CkmRsaAesKeyWrap);
        Assert.Equal("""{"target":"t","enc":"CKM_RSA_AES_KEY_WRAP"}""", request.ToJson());
        Assert.Null(ReleaseRequest.Parse(request.ToJson()).Value!.Nonce);
    }

    [Fact]
    public void To_string_never_prints_the_token() =>
        Assert.DoesNotContain("secret-token", new ReleaseRequest("secret-token", "n", KeyWrapAlgorithm.RsaAesKeyWrap256).ToString(), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"nonce":"n","enc":"RSA_AES_KEY_WRAP_256"}""")]
    [InlineData("""{"target":"t","enc":"RSA_OAEP"}""")]
    [InlineData("""{"target":"t"}""")]
    [InlineData("""{"target":"t","enc":"RSA_AES_KEY_WRAP_256","extra":1}""")]
    [InlineData("""{"target":"t","nonce":1,"enc":"RSA_AES_KEY_WRAP_256"}""")]
    [InlineData("""{"target":"t","target":"u","enc":"RSA_AES_KEY_WRAP_256"}""")]
    [InlineData("[]")]
    [InlineData("{")]
    public void Malformed_request_is_refused(string json)
    {
        var result = ReleaseRequest.Parse(json);
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.RequestMalformed, result.ErrorCode);
    }

    [Theory]
    [InlineData("""{"target":"\ud800","enc":"RSA_AES_KEY_WRAP_256"}""")]
    [InlineData("""{"target":"a.b.c","nonce":"\ud800","enc":"RSA_AES_KEY_WRAP_256"}""")]
    [InlineData("""{"target":"a.b.c","enc":"\udc00"}""")]
    [InlineData("""{"target":"a.b.c","enc":"RSA_AES_KEY_WRAP_256","\ud800":1}""")]
    public void A_request_escaping_a_lone_surrogate_is_malformed_not_thrown(string json)
    {
        var request = ReleaseRequest.Parse(json);
        Assert.False(request.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.RequestMalformed, request.ErrorCode);
    }
}

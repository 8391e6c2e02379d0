using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CleanRoom.Attestation.Tests;

public sealed class AttestationTokenValidatorTests : IClassFixture<AuthorityFixture>
{
    private readonly AuthorityFixture _f;
    private readonly string _token;

    public AttestationTokenValidatorTests(AuthorityFixture fixture)
    {
        _f = fixture;
        _token = _f.Authority.Attest(AttestationAuthorityTests.Request(_f.Platform)).Token!;
    }

    private TokenValidationOptions Options(bool allowSimulated = true, string? nonce = "n-123", string? issuer = null, TimeProvider? time = null) => new()
    {
        ExpectedIssuer = issuer ?? _f.Authority.Issuer,
        AllowSimulated = allowSimulated,
        ExpectedNonce = nonce,
        TimeProvider = time ?? _f.Time,
    };

    private TokenValidationResult Validate(string token, TokenValidationOptions? options = null) =>
        AttestationTokenValidator.Validate(token, _f.Authority.JwksJson, options ?? Options());

    private static string B64(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    private string Payload => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(_token.Split('.')[1]));

    [Fact]
    public void Valid_token_is_accepted()
    {
        Assert.True(Validate(_token).IsValid, Validate(_token).ToString());
    }

    [Fact]
    public void Simulated_token_without_allow_simulated_is_refused()
    {
        TokenValidationResult result = Validate(_token, Options(allowSimulated: false));

        Assert.Equal(TokenErrorCodes.SimulatedNotAllowed, result.ErrorCode);
        Assert.Equal(JsonValueKind.Undefined, result.Claims.ValueKind);
        Assert.Empty(result.RuntimeKeys);
    }

    [Fact]
    public void Expired_token_is_refused()
    {
        var later = new FixedTimeProvider(_f.Time.Now.AddHours(8).AddSeconds(61));

        Assert.Equal(TokenErrorCodes.Expired, Validate(_token, Options(time: later)).ErrorCode);
    }

    [Fact]
    public void Token_just_inside_the_clock_skew_is_accepted()
    {
        var later = new FixedTimeProvider(_f.Time.Now.AddHours(8).AddSeconds(30));

        Assert.True(Validate(_token, Options(time: later)).IsValid);
    }

    [Fact]
    public void Token_used_before_nbf_is_refused()
    {
        var earlier = new FixedTimeProvider(_f.Time.Now.AddMinutes(-5));

        Assert.Equal(TokenErrorCodes.NotYetValid, Validate(_token, Options(time: earlier)).ErrorCode);
    }

    [Fact]
    public void Exp_at_the_last_second_a_datetime_can_hold_is_accepted()
    {
        using var key = RSA.Create(2048);
        (string token, string jwks) = SignedWithTimes(key, "\"exp\":253402300799");

        Assert.True(AttestationTokenValidator.Validate(token, jwks, Options()).IsValid);
    }

    [Theory]
    [InlineData("\"exp\":-100000000000000")]
    [InlineData("\"exp\":9223372036854775807")]
    [InlineData("\"exp\":9223372036854775780")]
    [InlineData("\"exp\":253402300800")]
    [InlineData("\"exp\":-1")]
    public void Exp_outside_the_datetime_range_is_a_typed_refusal(string times)
    {
        using var key = RSA.Create(2048);
        (string token, string jwks) = SignedWithTimes(key, times);

        TokenValidationResult result = AttestationTokenValidator.Validate(token, jwks, Options());

        Assert.False(result.IsValid);
        Assert.Equal(TokenErrorCodes.ClaimsInvalid, result.ErrorCode);
    }

    [Theory]
    [InlineData("\"exp\":9223372036854775000,\"nbf\":100000000000000")]
    [InlineData("\"exp\":100000000000001,\"nbf\":100000000000000")]
    [InlineData("\"exp\":253402300799,\"nbf\":253402300800")]
    [InlineData("\"exp\":253402300799,\"nbf\":-5")]
    public void Nbf_outside_the_datetime_range_is_a_typed_refusal(string times)
    {
        using var key = RSA.Create(2048);
        (string token, string jwks) = SignedWithTimes(key, times);

        TokenValidationResult result = AttestationTokenValidator.Validate(token, jwks, Options());

        Assert.False(result.IsValid);
        Assert.Equal(TokenErrorCodes.ClaimsInvalid, result.ErrorCode);
    }

    /// <summary>A token carrying <paramref name="times"/>, signed by <paramref name="key"/> (the authority only signs times it chose).</summary>
    private (string Token, string Jwks) SignedWithTimes(RSA key, string times)
    {
        RSAParameters p = key.ExportParameters(false);
        string jwks = $$"""{"keys":[{"kty":"RSA","kid":"times-kid","n":"{{Base64Url.EncodeToString(p.Modulus)}}","e":"{{Base64Url.EncodeToString(p.Exponent)}}"}]}""";
        string input = B64("""{"alg":"RS256","kid":"times-kid","typ":"JWT"}""") + "."
            + B64($$"""{"iss":"{{_f.Authority.Issuer}}",{{times}},"nonce":"n-123","x-ms-attestation-type":"sevsnpvm","x-cleanroom-simulated":true}""");
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return (input + "." + Base64Url.EncodeToString(signature), jwks);
    }

    [Fact]
    public void Wrong_issuer_is_refused()
    {
        Assert.Equal(TokenErrorCodes.IssuerMismatch, Validate(_token, Options(issuer: "https://sharedeus.eus.attest.azure.net")).ErrorCode);
    }

    [Fact]
    public void Nonce_mismatch_is_refused()
    {
        Assert.Equal(TokenErrorCodes.NonceMismatch, Validate(_token, Options(nonce: "n-124")).ErrorCode);
    }

    [Fact]
    public void Alg_none_is_refused()
    {
        string forged = B64($"{{\"alg\":\"none\",\"kid\":\"{_f.Authority.KeyId}\",\"typ\":\"JWT\"}}") + "." + _token.Split('.')[1] + ".";

        Assert.Equal(TokenErrorCodes.AlgorithmNotAllowed, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Unsigned_alg_none_token_with_empty_signature_is_refused_even_without_kid()
    {
        string forged = B64("{\"alg\":\"none\"}") + "." + _token.Split('.')[1] + ".";

        Assert.False(Validate(forged).IsValid);
    }

    [Fact]
    public void Hs256_signed_with_the_public_key_is_refused()
    {
        using JsonDocument jwks = JsonDocument.Parse(_f.Authority.JwksJson);
        JsonElement jwk = jwks.RootElement.GetProperty("keys")[0];
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = Base64Url.DecodeFromChars(jwk.GetProperty("n").GetString()),
            Exponent = Base64Url.DecodeFromChars(jwk.GetProperty("e").GetString()),
        });
        string signingInput = B64($"{{\"alg\":\"HS256\",\"kid\":\"{_f.Authority.KeyId}\",\"typ\":\"JWT\"}}") + "." + _token.Split('.')[1];
        foreach (byte[] hmacKey in new[] { Encoding.UTF8.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()), rsa.ExportSubjectPublicKeyInfo(), Encoding.UTF8.GetBytes(_f.Authority.JwksJson) })
        {
            string forged = signingInput + "." + Base64Url.EncodeToString(HMACSHA256.HashData(hmacKey, Encoding.ASCII.GetBytes(signingInput)));

            Assert.Equal(TokenErrorCodes.AlgorithmNotAllowed, Validate(forged).ErrorCode);
        }
    }

    [Theory]
    [InlineData("RS384")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    [InlineData("rs256")]
    [InlineData("EdDSA")]
    public void Any_alg_other_than_rs256_is_refused(string alg)
    {
        string forged = B64($"{{\"alg\":\"{alg}\",\"kid\":\"{_f.Authority.KeyId}\"}}") + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.AlgorithmNotAllowed, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Unknown_kid_is_refused()
    {
        string forged = B64("{\"alg\":\"RS256\",\"kid\":\"someone-else\",\"typ\":\"JWT\"}") + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.KeyIdUnknown, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Missing_kid_is_refused()
    {
        string forged = B64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.KeyIdMissing, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Token_signed_by_another_authority_is_refused()
    {
        AttestationPolicy policy = TestPolicies.Simulated;
        using var other = new AttestationAuthority(policy, _f.Platform.TrustedRoots, policy.Issuer, _f.Time);
        string token = other.Attest(AttestationAuthorityTests.Request(_f.Platform)).Token!;

        Assert.Equal(TokenErrorCodes.KeyIdUnknown, Validate(token).ErrorCode);
    }

    [Fact]
    public void Edited_payload_fails_the_signature()
    {
        JsonObject payload = JsonNode.Parse(Payload)!.AsObject();
        payload["x-ms-sevsnpvm-is-debuggable"] = true;
        string[] parts = _token.Split('.');
        string forged = parts[0] + "." + B64(payload.ToJsonString()) + "." + parts[2];

        Assert.Equal(TokenErrorCodes.SignatureInvalid, Validate(forged).ErrorCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!!.@@@.###")]
    public void Malformed_token_is_refused(string token)
    {
        Assert.Equal(TokenErrorCodes.Malformed, Validate(token).ErrorCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("{\"keys\":{}}")]
    [InlineData("not json")]
    public void Unusable_jwks_refuses_the_token(string jwks)
    {
        TokenValidationResult result = AttestationTokenValidator.Validate(_token, jwks, Options());

        Assert.Equal(TokenErrorCodes.JwksInvalid, result.ErrorCode);
    }

    [Fact]
    public void Jwks_key_marked_for_encryption_is_not_used_to_verify()
    {
        string jwks = _f.Authority.JwksJson.Replace("\"use\":\"sig\"", "\"use\":\"enc\"", StringComparison.Ordinal);

        Assert.Equal(TokenErrorCodes.JwksInvalid, AttestationTokenValidator.Validate(_token, jwks, Options()).ErrorCode);
    }

    [Fact]
    public void Empty_expected_issuer_refuses_everything()
    {
        Assert.Equal(TokenErrorCodes.IssuerMismatch, Validate(_token, Options(issuer: string.Empty)).ErrorCode);
    }

    [Fact]
    public void Header_with_a_repeated_alg_is_refused()
    {
        string forged = B64($"{{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"{_f.Authority.KeyId}\"}}") + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.Malformed, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Token_with_critical_header_is_refused()
    {
        string forged = B64($"{{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"kid\":\"{_f.Authority.KeyId}\"}}") + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.CriticalHeaderUnsupported, Validate(forged).ErrorCode);
    }

    [Theory]
    [InlineData("{\"alg\":\"\\ud800\",\"kid\":\"k\"}")]
    [InlineData("{\"alg\":\"RS256\",\"kid\":\"\\ud800\"}")]
    [InlineData("{\"alg\":\"RS256\",\"kid\":\"k\",\"typ\":\"\\udc00\"}")]
    [InlineData("{\"alg\":\"RS256\",\"kid\":\"k\",\"\\ud800\":1}")]
    public void Header_escaping_a_lone_surrogate_is_refused_as_malformed_not_thrown(string header)
    {
        // The header is read before any signature check: an unauthenticated caller chooses it.
        string forged = B64(header) + "." + _token.Split('.')[1] + "." + _token.Split('.')[2];

        Assert.Equal(TokenErrorCodes.Malformed, Validate(forged).ErrorCode);
    }

    [Fact]
    public void Signed_payload_escaping_a_lone_surrogate_is_refused_as_malformed_not_thrown()
    {
        using var key = RSA.Create(2048);
        (string token, string jwks) = SignedWithTimes(key, "\"exp\":253402300799,\"jti\":\"\\ud800\"");

        Assert.Equal(TokenErrorCodes.Malformed, AttestationTokenValidator.Validate(token, jwks, Options()).ErrorCode);
    }

    [Fact]
    public void Jwks_escaping_a_lone_surrogate_is_refused_not_thrown()
    {
        string jwks = _f.Authority.JwksJson.Replace("{\"keys\":[", "{\"keys\":[{\"kid\":\"\\ud800\"},", StringComparison.Ordinal);

        Assert.Equal(TokenErrorCodes.JwksInvalid, AttestationTokenValidator.Validate(_token, jwks, Options()).ErrorCode);
    }
}

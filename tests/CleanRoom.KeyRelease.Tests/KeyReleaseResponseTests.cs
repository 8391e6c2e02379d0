using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CleanRoom.KeyRelease.Tests;

public sealed class KeyReleaseResponseTests
{
    private const string PolicyJson = """{"version":"1.0.0","anyOf":[{"authority":"https://sharedeus.eus.attest.azure.net","allOf":[{"claim":"x-ms-attestation-type","equals":"sevsnpvm"}]}]}""";

    private static KeyReleaseResponse Sample(string? nonce = "n-123") => new()
    {
        Kid = "https://broker.local/keys/kek/v1",
        KeyHsm = KeyHsmEnvelope.Create([1, 2, 3, 4], TestKeys.Enclave, "https://broker.local/keys/kek/v1", KeyWrapAlgorithm.RsaAesKeyWrap256),
        Enc = KeyWrapAlgorithm.RsaAesKeyWrap256,
        Nonce = nonce,
        KeyOps = ["wrapKey", "unwrapKey"],
        Modulus = TestKeys.Kek.ExportParameters(false).Modulus!,
        Exponent = TestKeys.Kek.ExportParameters(false).Exponent!,
        Created = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        Updated = DateTimeOffset.FromUnixTimeSeconds(1_700_000_100),
        ReleasePolicyJson = PolicyJson,
        ReleasePolicyImmutable = true,
    };

    [Fact]
    public void Signed_response_verifies_and_round_trips()
    {
        var original = Sample();
        var jws = original.Sign(TestKeys.Broker, "broker-key-1");
        var result = KeyReleaseResponse.Verify(jws, TestKeys.Broker, "n-123");
        Assert.True(result.IsSuccess, result.Reason);
        var parsed = result.Value;
        Assert.Equal(original.Kid, parsed.Kid);
        Assert.Equal(original.KeyHsm, parsed.KeyHsm);
        Assert.Equal(KeyWrapAlgorithm.RsaAesKeyWrap256, parsed.Enc);
        Assert.Equal("n-123", parsed.Nonce);
        Assert.Equal("RSA-HSM", parsed.KeyType);
        Assert.Equal(["wrapKey", "unwrapKey"], parsed.KeyOps);
        Assert.Equal(original.Modulus, parsed.Modulus);
        Assert.Equal(original.Exponent, parsed.Exponent);
        Assert.True(parsed.Exportable);
        Assert.True(parsed.Enabled);
        Assert.Equal(original.Created, parsed.Created);
        Assert.Equal(original.Updated, parsed.Updated);
        Assert.Equal(PolicyJson, parsed.ReleasePolicyJson);
        Assert.True(parsed.ReleasePolicyImmutable);

        using var opened = KeyHsmEnvelope.TryOpen(parsed.KeyHsm, TestKeys.Enclave);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, opened.Key.ToArray());
    }

    [Fact]
    public void Payload_has_the_key_vault_shape()
    {
        var jws = Sample().Sign(TestKeys.Broker, "broker-key-1");
        var parts = jws.Split('.');
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("RS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("broker-key-1", header.RootElement.GetProperty("kid").GetString());

        using var payload = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        var request = payload.RootElement.GetProperty("request");
        Assert.Equal("7.4", request.GetProperty("api-version").GetString());
        Assert.Equal("RSA_AES_KEY_WRAP_256", request.GetProperty("enc").GetString());
        Assert.Equal("n-123", request.GetProperty("nonce").GetString());
        Assert.Equal("https://broker.local/keys/kek/v1", request.GetProperty("kid").GetString());
        var bundle = payload.RootElement.GetProperty("response").GetProperty("key");
        var key = bundle.GetProperty("key");
        Assert.Equal("RSA-HSM", key.GetProperty("kty").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("key_hsm").GetString()));
        Assert.Equal("AQAB", key.GetProperty("e").GetString());
        Assert.True(bundle.GetProperty("attributes").GetProperty("exportable").GetBoolean());
        var policy = bundle.GetProperty("release_policy");
        Assert.Equal("application/json; charset=utf-8", policy.GetProperty("contentType").GetString());
        Assert.Equal(PolicyJson, Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(policy.GetProperty("data").GetString()!)));
        Assert.True(policy.GetProperty("immutable").GetBoolean());
    }

    [Fact]
    public void Header_can_carry_an_x5c_chain()
    {
        var request = new CertificateRequest("CN=broker", TestKeys.Broker, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [certificate]);
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jws.Split('.')[0]));
        Assert.Equal(Convert.ToBase64String(certificate.RawData), header.RootElement.GetProperty("x5c")[0].GetString());
        Assert.True(header.RootElement.TryGetProperty("x5t#S256", out _));
        Assert.True(KeyReleaseResponse.Verify(jws, TestKeys.Broker, "n-123").IsSuccess);
        Assert.Throws<ArgumentException>(() => Sample().Sign(TestKeys.Broker));
    }

    [Fact]
    public void Tampered_payload_fails()
    {
        var parts = Sample().Sign(TestKeys.Broker, "b").Split('.');
        var payload = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]))
            .Replace("\"immutable\":true", "\"immutable\":false", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{TestKeys.B64(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        var result = KeyReleaseResponse.Verify(tampered, TestKeys.Broker, "n-123");
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid, result.ErrorCode);
    }

    [Fact]
    public void Wrong_signer_fails()
    {
        var jws = Sample().Sign(TestKeys.Other, "impostor");
        var result = KeyReleaseResponse.Verify(jws, TestKeys.Broker, "n-123");
        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid, result.ErrorCode);
        Assert.DoesNotContain(jws, result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("n-124")]
    [InlineData("")]
    public void Nonce_mismatch_fails(string expected)
    {
        var result = KeyReleaseResponse.Verify(Sample().Sign(TestKeys.Broker, "b"), TestKeys.Broker, expected);
        Assert.Equal(KeyReleaseErrorCodes.ResponseNonceMismatch, result.ErrorCode);
    }

    [Fact]
    public void Missing_nonce_echo_fails_when_one_was_sent()
    {
        var result = KeyReleaseResponse.Verify(Sample(nonce: null).Sign(TestKeys.Broker, "b"), TestKeys.Broker, "n-123");
        Assert.Equal(KeyReleaseErrorCodes.ResponseNonceMismatch, result.ErrorCode);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("none")]
    [InlineData("PS256")]
    public void Other_jws_algorithms_are_refused(string alg)
    {
        var parts = Sample().Sign(TestKeys.Broker, "b").Split('.');
        var header = TestKeys.B64(Encoding.UTF8.GetBytes($$"""{"alg":"{{alg}}","kid":"b"}"""));
        var result = KeyReleaseResponse.Verify($"{header}.{parts[1]}.{parts[2]}", TestKeys.Broker, "n-123");
        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid, result.ErrorCode);
    }

    [Fact]
    public void Critical_header_is_refused()
    {
        var signer = new JwsTestSigner(TestKeys.Broker);
        var jws = signer.Sign("""{"alg":"RS256","crit":["exp"],"exp":1}""", "{}");
        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid, KeyReleaseResponse.Verify(jws, TestKeys.Broker, null).ErrorCode);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"request":{"enc":"RSA_AES_KEY_WRAP_256"},"response":{"key":{"key":{"kid":"k"}}}}""")]
    [InlineData("""{"request":{"enc":"RSA1_5"},"response":{"key":{"key":{"kid":"k","key_hsm":"x"}}}}""")]
    [InlineData("""{"request":{"enc":"RSA_AES_KEY_WRAP_256","nonce":5},"response":{"key":{"key":{"kid":"k","key_hsm":"x"}}}}""")]
    [InlineData("not json")]
    public void Signed_but_malformed_payload_is_refused(string payload)
    {
        var jws = new JwsTestSigner(TestKeys.Broker).Sign("""{"alg":"RS256","kid":"b"}""", payload);
        Assert.Equal(KeyReleaseErrorCodes.ResponseMalformed, KeyReleaseResponse.Verify(jws, TestKeys.Broker, null).ErrorCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!.??.**")]
    public void Non_jws_input_is_refused(string jws) =>
        Assert.Equal(KeyReleaseErrorCodes.ResponseMalformed, KeyReleaseResponse.Verify(jws, TestKeys.Broker, null).ErrorCode);

    [Fact]
    public void Minimal_key_vault_payload_without_optional_parts_parses()
    {
        var jws = new JwsTestSigner(TestKeys.Broker).Sign("""{"alg":"RS256","x5t#S256":"abc"}""",
            """{"request":{"api-version":"7.4","enc":"CKM_RSA_AES_KEY_WRAP","kid":"https://v.vault.azure.net/keys/k"},"response":{"key":{"key":{"kid":"https://v.vault.azure.net/keys/k/1","kty":"RSA-HSM","key_hsm":"eyJ"}}}}""");
        var result = KeyReleaseResponse.Verify(jws, TestKeys.Broker, null);
        Assert.True(result.IsSuccess, result.Reason);
        Assert.Null(result.Value.Nonce);
        Assert.False(result.Value.Exportable);
        Assert.Empty(result.Value.Modulus);
    }

    [Fact]
    public void A_header_escaping_a_lone_surrogate_is_malformed_not_thrown_before_the_signature_check()
    {
        var header = TestKeys.B64(Encoding.UTF8.GetBytes("""{"alg":"\ud800"}"""));
        var result = KeyReleaseResponse.Verify(header + ".e30.AA", TestKeys.Broker, null);
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.ResponseMalformed, result.ErrorCode);
    }
}

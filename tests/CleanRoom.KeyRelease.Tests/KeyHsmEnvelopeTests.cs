using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.KeyRelease.Tests;

public sealed class KeyHsmEnvelopeTests
{
    private static readonly byte[] Target = Enumerable.Range(0, 37).Select(i => (byte)i).ToArray();

    [Theory]
    [InlineData(KeyWrapAlgorithm.CkmRsaAesKeyWrap)]
    [InlineData(KeyWrapAlgorithm.RsaAesKeyWrap256)]
    [InlineData(KeyWrapAlgorithm.RsaAesKeyWrap384)]
    public void Round_trip_recovers_the_target_key(KeyWrapAlgorithm enc)
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "https://broker/keys/kek/1", enc);
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        Assert.True(result.IsSuccess, result.Reason);
        Assert.Equal(Target, result.Key.ToArray());
        Assert.Equal("https://broker/keys/kek/1", result.Kid);
        Assert.Equal(enc, result.Algorithm);
    }

    [Theory]
    [InlineData(KeyWrapAlgorithm.CkmRsaAesKeyWrap, "CKM_RSA_AES_KEY_WRAP", 3072)]
    [InlineData(KeyWrapAlgorithm.RsaAesKeyWrap256, "RSA_AES_KEY_WRAP_256", 3072)]
    [InlineData(KeyWrapAlgorithm.RsaAesKeyWrap384, "RSA_AES_KEY_WRAP_384", 3072)]
    public void Envelope_has_the_key_vault_shape(KeyWrapAlgorithm enc, string wireName, int modulusBits)
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", enc);
        using var document = JsonDocument.Parse(Decode(keyHsm));
        var root = document.RootElement;
        Assert.Equal("1.0", root.GetProperty("schema_version").GetString());
        Assert.Equal("kid", root.GetProperty("header").GetProperty("kid").GetString());
        Assert.Equal("dir", root.GetProperty("header").GetProperty("alg").GetString());
        Assert.Equal(wireName, root.GetProperty("header").GetProperty("enc").GetString());
        var ciphertext = Decode(root.GetProperty("ciphertext").GetString()!);
        // |n| bytes of OAEP, then KWP of a 37-byte key = 8 (AIV) + 40 (padded to 8).
        Assert.Equal(modulusBits / 8 + 48, ciphertext.Length);

        // Independently decrypt with the OAEP hash the enc name implies.
        var padding = enc switch
        {
            KeyWrapAlgorithm.CkmRsaAesKeyWrap => RSAEncryptionPadding.OaepSHA1,
            KeyWrapAlgorithm.RsaAesKeyWrap256 => RSAEncryptionPadding.OaepSHA256,
            _ => RSAEncryptionPadding.OaepSHA384,
        };
        var aesKey = TestKeys.Enclave.Decrypt(ciphertext.AsSpan(0, modulusBits / 8).ToArray(), padding);
        Assert.Equal(32, aesKey.Length);
        using var aes = Aes.Create();
        aes.Key = aesKey;
        Assert.Equal(Target, aes.DecryptKeyWrapPadded(ciphertext.AsSpan(modulusBits / 8)));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(400)]
    [InlineData(-1)]
    public void Tampered_ciphertext_fails(int position)
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", KeyWrapAlgorithm.RsaAesKeyWrap256);
        var json = Encoding.UTF8.GetString(Decode(keyHsm));
        using var document = JsonDocument.Parse(json);
        var ciphertext = Decode(document.RootElement.GetProperty("ciphertext").GetString()!);
        ciphertext[position < 0 ? ciphertext.Length + position : position] ^= 0x40;
        var tampered = TestKeys.B64(Encoding.UTF8.GetBytes(json.Replace(
            document.RootElement.GetProperty("ciphertext").GetString()!, TestKeys.B64(ciphertext), StringComparison.Ordinal)));

        using var result = KeyHsmEnvelope.TryOpen(tampered, TestKeys.Enclave);
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmUnwrapFailed, result.ErrorCode);
        Assert.Throws<InvalidOperationException>(() => result.Key.ToArray());
    }

    [Fact]
    public void Wrong_rsa_key_fails()
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", KeyWrapAlgorithm.RsaAesKeyWrap256);
        using var otherSameSize = RSA.Create(3072);
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, otherSameSize);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmUnwrapFailed, result.ErrorCode);
        using var smaller = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Other);
        Assert.False(smaller.IsSuccess);
    }

    [Fact]
    public void Header_enc_swapped_to_another_algorithm_fails()
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", KeyWrapAlgorithm.RsaAesKeyWrap256);
        var json = Encoding.UTF8.GetString(Decode(keyHsm)).Replace("RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384", StringComparison.Ordinal);
        using var result = KeyHsmEnvelope.TryOpen(TestKeys.B64(Encoding.UTF8.GetBytes(json)), TestKeys.Enclave);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmUnwrapFailed, result.ErrorCode);
    }

    [Theory]
    [InlineData("not base64 !")]
    [InlineData("")]
    [InlineData("eyJ9")]
    [InlineData("""{"schema_version":"2.0","header":{"kid":"k","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"}""")]
    [InlineData("""{"schema_version":"1.0","header":{"kid":"k","alg":"RSA-OAEP","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"}""")]
    [InlineData("""{"schema_version":"1.0","header":{"alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"}""")]
    [InlineData("""{"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"}""")]
    [InlineData("""{"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"}}""")]
    public void Malformed_envelope_is_a_typed_failure(string envelope)
    {
        var keyHsm = envelope.StartsWith('{') ? TestKeys.B64(Encoding.UTF8.GetBytes(envelope)) : envelope;
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmMalformed, result.ErrorCode);
    }

    [Fact]
    public void Unknown_enc_is_refused()
    {
        var keyHsm = TestKeys.B64(Encoding.UTF8.GetBytes("""{"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":"RSA1_5"},"ciphertext":"AAAA"}"""));
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmUnsupportedAlgorithm, result.ErrorCode);
    }

    [Fact]
    public void Rsa_target_key_round_trips_as_pkcs8()
    {
        var pkcs8 = RsaTargetKey.Export(TestKeys.Kek);
        var keyHsm = KeyHsmEnvelope.Create(pkcs8, TestKeys.Enclave, "kek", KeyWrapAlgorithm.CkmRsaAesKeyWrap);
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        Assert.True(RsaTargetKey.TryImport(result.Key, out var imported));
        using (imported)
        {
            Assert.Equal(TestKeys.Kek.ExportParameters(false).Modulus, imported.ExportParameters(false).Modulus);
            byte[] data = [1, 2, 3];
            var signature = imported.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
            Assert.True(TestKeys.Kek.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }
    }

    [Fact]
    public void Rsa_target_key_import_refuses_garbage_and_trailing_bytes()
    {
        Assert.False(RsaTargetKey.TryImport([1, 2, 3], out _));
        Assert.False(RsaTargetKey.TryImport([.. RsaTargetKey.Export(TestKeys.Kek), 0], out _));
    }

    [Fact]
    public void Disposing_the_result_forgets_the_key()
    {
        var keyHsm = KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", KeyWrapAlgorithm.RsaAesKeyWrap384);
        var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        result.Dispose();
        Assert.Throws<InvalidOperationException>(() => result.Key.ToArray());
    }

    [Fact]
    public void Create_refuses_a_small_wrapping_key_and_no_algorithm()
    {
        using var small = RSA.Create(1024);
        Assert.Throws<ArgumentException>(() => KeyHsmEnvelope.Create(Target, small, "kid", KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyHsmEnvelope.Create(Target, TestKeys.Enclave, "kid", KeyWrapAlgorithm.None));
    }

    private static byte[] Decode(string b64url) => System.Buffers.Text.Base64Url.DecodeFromChars(b64url);

    [Fact]
    public void An_envelope_escaping_a_lone_surrogate_is_malformed_not_thrown()
    {
        var keyHsm = TestKeys.B64(Encoding.UTF8.GetBytes("""{"schema_version":"\ud800"}"""));
        using var result = KeyHsmEnvelope.TryOpen(keyHsm, TestKeys.Enclave);
        Assert.False(result.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmMalformed, result.ErrorCode);
    }
}

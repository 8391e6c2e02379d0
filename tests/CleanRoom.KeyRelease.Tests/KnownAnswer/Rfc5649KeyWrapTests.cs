using System.Security.Cryptography;

namespace CleanRoom.KeyRelease.Tests.KnownAnswer;

/// <summary>RFC 5649 section 6 test vectors (AES-192 KEK), through .NET's KWP and through our key_hsm parser.</summary>
public sealed class Rfc5649KeyWrapTests
{
    private const string Kek = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8";

    public static TheoryData<string, string> Vectors => new()
    {
        { "c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a" },
        { "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Aes_key_wrap_with_padding_matches_the_rfc_vector(string keyHex, string wrappedHex)
    {
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString(Kek);
        Assert.Equal(wrappedHex, Convert.ToHexStringLower(aes.EncryptKeyWrapPadded(Convert.FromHexString(keyHex))));
        Assert.Equal(keyHex, Convert.ToHexStringLower(aes.DecryptKeyWrapPadded(Convert.FromHexString(wrappedHex))));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Rfc_vector_with_a_flipped_bit_does_not_unwrap(string keyHex, string wrappedHex)
    {
        _ = keyHex;
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString(Kek);
        var wrapped = Convert.FromHexString(wrappedHex);
        wrapped[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => aes.DecryptKeyWrapPadded(wrapped));
    }

    [Fact]
    public void Key_hsm_carrying_the_rfc_vector_under_its_aes192_kek_is_refused_because_key_hsm_requires_aes256()
    {
        var rsa = TestKeys.Enclave;
        var envelope = Envelope(rsa.Encrypt(Convert.FromHexString(Kek), RSAEncryptionPadding.OaepSHA256),
            Convert.FromHexString("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"));
        using var refused = KeyHsmEnvelope.TryOpen(envelope, rsa);
        Assert.Equal(KeyReleaseErrorCodes.KeyHsmUnwrapFailed, refused.ErrorCode);
    }

    [Fact]
    public void Hand_built_key_hsm_opens_to_the_rfc_key_data()
    {
        // Independent of KeyHsmEnvelope.Create: OAEP-SHA256(fixed AES-256 key) ‖ KWP(RFC key data).
        var rsa = TestKeys.Enclave;
        var kek256 = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        using var aes = Aes.Create();
        aes.Key = kek256;
        var target = Convert.FromHexString("c37b7e6492584340bed12207808941155068f738");
        var envelope = Envelope(rsa.Encrypt(kek256, RSAEncryptionPadding.OaepSHA256), aes.EncryptKeyWrapPadded(target));
        using var opened = KeyHsmEnvelope.TryOpen(envelope, rsa);
        Assert.True(opened.IsSuccess, opened.Reason);
        Assert.Equal(target, opened.Key.ToArray());
        Assert.Equal("kid-1", opened.Kid);
    }

    private static string Envelope(byte[] rsaPart, byte[] kwpPart) =>
        TestKeys.B64(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"schema_version":"1.0","header":{"kid":"kid-1","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"{{TestKeys.B64([.. rsaPart, .. kwpPart])}}"}"""));
}

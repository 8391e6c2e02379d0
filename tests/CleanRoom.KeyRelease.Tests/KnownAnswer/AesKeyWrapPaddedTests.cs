using System.Security.Cryptography;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease.Tests.KnownAnswer;

/// <summary>Our RFC 5649 implementation against the RFC's vectors and, byte for byte, against .NET's own KWP.</summary>
public sealed class AesKeyWrapPaddedTests
{
    private const string RfcKek = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8";

    [Theory]
    [InlineData("c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")]
    [InlineData("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f")]
    public void Wraps_and_unwraps_the_rfc_5649_vectors(string keyHex, string wrappedHex)
    {
        var kek = Convert.FromHexString(RfcKek);
        Assert.Equal(wrappedHex, Convert.ToHexStringLower(AesKeyWrapPadded.Wrap(kek, Convert.FromHexString(keyHex))));
        Assert.Equal(keyHex, Convert.ToHexStringLower(AesKeyWrapPadded.TryUnwrap(kek, Convert.FromHexString(wrappedHex))!));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(255)]
    [InlineData(1793)]
    public void Agrees_with_the_platform_implementation_in_both_directions(int length)
    {
        var kek = RandomNumberGenerator.GetBytes(32);
        var plaintext = RandomNumberGenerator.GetBytes(length);
        using var platform = Aes.Create();
        platform.Key = kek;

        var ours = AesKeyWrapPadded.Wrap(kek, plaintext);
        Assert.Equal(platform.EncryptKeyWrapPadded(plaintext), ours);
        Assert.Equal(plaintext, platform.DecryptKeyWrapPadded(ours));
        Assert.Equal(plaintext, AesKeyWrapPadded.TryUnwrap(kek, platform.EncryptKeyWrapPadded(plaintext)));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(1793)]
    public void Any_flipped_bit_or_a_wrong_key_fails_the_integrity_check(int length)
    {
        var kek = RandomNumberGenerator.GetBytes(32);
        var wrapped = AesKeyWrapPadded.Wrap(kek, RandomNumberGenerator.GetBytes(length));
        for (var bit = 0; bit < wrapped.Length * 8; bit += 61)
        {
            var tampered = (byte[])wrapped.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Null(AesKeyWrapPadded.TryUnwrap(kek, tampered));
        }

        Assert.Null(AesKeyWrapPadded.TryUnwrap(RandomNumberGenerator.GetBytes(32), wrapped));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    public void Impossible_lengths_are_refused_without_decrypting(int length)
    {
        Assert.Null(AesKeyWrapPadded.TryUnwrap(RandomNumberGenerator.GetBytes(32), new byte[length]));
    }

    [Fact]
    public void A_well_formed_block_that_declares_a_length_beyond_its_data_is_refused()
    {
        // AIV with MLI = 9 in a single 8-byte-data block: integrity-valid AES, impossible length.
        var kek = RandomNumberGenerator.GetBytes(32);
        var block = Convert.FromHexString("a65959a600000009" + "0102030405060708");
        using var aes = Aes.Create();
        aes.Key = kek;
        var forged = aes.EncryptEcb(block, PaddingMode.None);
        Assert.Null(AesKeyWrapPadded.TryUnwrap(kek, forged));
    }
}

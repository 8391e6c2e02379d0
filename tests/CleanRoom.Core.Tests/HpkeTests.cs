using System.Text;
using CleanRoom.Core;
using NSec.Cryptography;

namespace CleanRoom.Core.Tests;

public sealed class HpkeTests
{
    // RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, Base Setup.
    private const string Info = "4f6465206f6e2061204772656369616e2055726e";
    private const string SkEm = "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736";
    private const string PkEm = "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431";
    private const string SkRm = "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8";
    private const string PkRm = "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d";
    private const string Enc = "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431";
    private const string SharedSecret = "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc";
    private const string AeadKey = "4531685d41d65f03dc48f6b8302c05b0";
    private const string BaseNonce = "56d890e5accaaf011cff4b7d";
    private const string Plaintext = "4265617574792069732074727574682c20747275746820626561757479";
    private const string Aad0 = "436f756e742d30";
    private const string Ciphertext0 = "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a";

    private static readonly byte[] s_info = "cleanroom result v1 job-1"u8.ToArray();
    private static readonly byte[] s_aad = "0123abcd"u8.ToArray();
    private static readonly byte[] s_message = "{\"columns\":[\"a\"],\"rows\":[[1]]}"u8.ToArray();

    private static Key Import(string hex) => Key.Import(KeyAgreementAlgorithm.X25519, Convert.FromHexString(hex), KeyBlobFormat.RawPrivateKey);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    [Fact]
    public void Rfc9180_a1_base_setup_matches_the_known_answers()
    {
        using var ephemeral = Import(SkEm);
        using var recipient = Import(SkRm);
        Assert.Equal(PkEm, Hex(ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey)));
        Assert.Equal(PkRm, Hex(recipient.PublicKey.Export(KeyBlobFormat.RawPublicKey)));

        var schedule = Hpke.SetupBaseS(HpkeAead.Aes128Gcm, ephemeral, recipient.PublicKey, Convert.FromHexString(Info))!;
        Assert.Equal(Enc, Hex(schedule.Enc));
        Assert.Equal(SharedSecret, Hex(schedule.SharedSecret));
        Assert.Equal(AeadKey, Hex(schedule.Key));
        Assert.Equal(BaseNonce, Hex(schedule.BaseNonce));

        var sealedBox = Hpke.Seal(HpkeAead.Aes128Gcm, ephemeral, recipient.PublicKey, Convert.FromHexString(Info), Convert.FromHexString(Aad0), Convert.FromHexString(Plaintext));
        Assert.Equal(Enc, Hex(sealedBox.Enc));
        Assert.Equal(Ciphertext0, Hex(sealedBox.Ciphertext));

        var opened = Hpke.Open(HpkeAead.Aes128Gcm, recipient, Convert.FromHexString(Enc), Convert.FromHexString(Info), Convert.FromHexString(Aad0), Convert.FromHexString(Ciphertext0));
        Assert.True(opened.IsSuccess, opened.Reason);
        Assert.Equal(Plaintext, Hex(opened.Plaintext!));
    }

    [Fact]
    public void Opens_a_ciphertext_another_implementation_sealed_in_the_aes_256_gcm_suite()
    {
        // RFC 9180's appendix has no vector for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, the suite CleanRoom
        // seals with: this one was sealed by pyca/cryptography 48.0.0 (hpke.Suite(KEM.X25519, KDF.HKDF_SHA256,
        // AEAD.AES_256_GCM).encrypt, empty aad) to the A.1 recipient key, so a wrong suite id or key length here fails.
        const string sealedByPyca = "da4e8f5379ff974321bcbeb406ebe49ba72c9e023e61f784b7a521af4ca1707ff353482e616b7ac500c731a8a18eea45075772a3b0722c7f37179fb1653994bbbcd6801287a531dc86970341e567";
        using var recipient = Import(SkRm);
        var bytes = Convert.FromHexString(sealedByPyca);
        var opened = Hpke.Open(recipient, bytes.AsSpan(0, Hpke.EncSize), s_info, [], bytes.AsSpan(Hpke.EncSize));
        Assert.True(opened.IsSuccess, opened.Reason);
        Assert.Equal(s_message, opened.Plaintext);
    }

    [Fact]
    public void Seal_and_open_round_trip_with_aes_256_gcm()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        Assert.Equal(Hpke.EncSize, sealedBox.Enc.Length);
        Assert.Equal(s_message.Length + Hpke.TagSize, sealedBox.Ciphertext.Length);

        var opened = Hpke.Open(recipient, sealedBox.Enc, s_info, s_aad, sealedBox.Ciphertext);
        Assert.True(opened.IsSuccess, opened.Reason);
        Assert.Equal(s_message, opened.Plaintext);
    }

    [Fact]
    public void Two_seals_of_the_same_message_differ()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var a = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        var b = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        Assert.NotEqual(a.Enc, b.Enc);
        Assert.NotEqual(a.Ciphertext, b.Ciphertext);
    }

    [Fact]
    public void Open_with_the_wrong_key_fails()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        using var other = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        AssertFails(Hpke.Open(other, sealedBox.Enc, s_info, s_aad, sealedBox.Ciphertext), "hpke.open_failed");
    }

    [Fact]
    public void Open_with_a_tampered_enc_fails()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        var enc = (byte[])sealedBox.Enc.Clone();
        enc[0] ^= 0x01;
        AssertFails(Hpke.Open(recipient, enc, s_info, s_aad, sealedBox.Ciphertext));
        AssertFails(Hpke.Open(recipient, enc.AsSpan(0, 31), s_info, s_aad, sealedBox.Ciphertext), "hpke.bad_enc");
        AssertFails(Hpke.Open(recipient, new byte[32], s_info, s_aad, sealedBox.Ciphertext), "hpke.bad_enc");
    }

    [Fact]
    public void Open_with_a_tampered_ciphertext_fails()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        for (var i = 0; i < sealedBox.Ciphertext.Length; i += 7)
        {
            var ciphertext = (byte[])sealedBox.Ciphertext.Clone();
            ciphertext[i] ^= 0x80;
            AssertFails(Hpke.Open(recipient, sealedBox.Enc, s_info, s_aad, ciphertext), "hpke.open_failed");
        }

        AssertFails(Hpke.Open(recipient, sealedBox.Enc, s_info, s_aad, sealedBox.Ciphertext.AsSpan(0, sealedBox.Ciphertext.Length - 1)), "hpke.open_failed");
        AssertFails(Hpke.Open(recipient, sealedBox.Enc, s_info, s_aad, sealedBox.Ciphertext.AsSpan(0, 15)), "hpke.open_failed");
    }

    [Fact]
    public void Open_with_the_wrong_info_fails()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        AssertFails(Hpke.Open(recipient, sealedBox.Enc, Encoding.UTF8.GetBytes("cleanroom result v1 job-2"), s_aad, sealedBox.Ciphertext), "hpke.open_failed");
    }

    [Fact]
    public void Open_with_the_wrong_aad_fails()
    {
        using var recipient = Key.Create(KeyAgreementAlgorithm.X25519);
        var sealedBox = Hpke.Seal(recipient.PublicKey, s_info, s_aad, s_message);
        AssertFails(Hpke.Open(recipient, sealedBox.Enc, s_info, "0123abce"u8, sealedBox.Ciphertext), "hpke.open_failed");
    }

    private static void AssertFails(HpkeOpenResult result, string? code = null)
    {
        Assert.False(result.IsSuccess);
        Assert.Null(result.Plaintext);
        if (code is not null)
        {
            Assert.Equal(code, result.ErrorCode);
        }
    }
}

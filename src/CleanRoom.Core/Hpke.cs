// HPKE, RFC 9180, base mode (mode_base = 0x00), single-shot Seal/Open (§6.1) with
//   KEM  DHKEM(X25519, HKDF-SHA256) = 0x0020 (§4.1, §7.1): Nsecret = Nenc = Npk = Nsk = 32,
//        X25519 from RFC 7748 via NSec/libsodium (an all-zero DH output is rejected);
//   KDF  HKDF-SHA256 = 0x0001 (RFC 5869): Nh = 32;
//   AEAD AES-256-GCM = 0x0002 (Nk = 32) — or AES-128-GCM = 0x0001 (Nk = 16) for the RFC's
//        Appendix A.1 vectors — Nn = 12, Nt = 16 (NIST SP 800-38D).
// Single-shot means sequence number 0, so the AEAD nonce is base_nonce itself. The exporter
// secret is not derived: nothing here uses the export interface.
using System.Buffers.Binary;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace CleanRoom.Core;

public static class Hpke
{
    public const int EncSize = 32;
    public const int TagSize = 16;
    private const int NonceSize = 12;
    private const int HashSize = 32;
    private const ushort KemId = 0x0020;
    private const ushort KdfId = 0x0001;

    private static readonly byte[] s_version = "HPKE-v1"u8.ToArray();
    private static readonly byte[] s_kemSuite = [.. "KEM"u8, (byte)(KemId >> 8), (byte)KemId];

    /// <summary>Seals <paramref name="plaintext"/> to an X25519 public key with AES-256-GCM and a fresh ephemeral key.</summary>
    public static HpkeSealed Seal(PublicKey recipientKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(recipientKey);
        using var ephemeral = Key.Create(KeyAgreementAlgorithm.X25519);
        return Seal(HpkeAead.Aes256Gcm, ephemeral, recipientKey, info, aad, plaintext);
    }

    /// <summary>Opens an AES-256-GCM HPKE ciphertext; a wrong key, info or aad, or any tampering, is a failed result.</summary>
    public static HpkeOpenResult Open(Key recipientKey, ReadOnlySpan<byte> enc, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext)
    {
        ArgumentNullException.ThrowIfNull(recipientKey);
        return Open(HpkeAead.Aes256Gcm, recipientKey, enc, info, aad, ciphertext);
    }

    /// <summary>Seal with a given ephemeral key: deterministic, for the RFC's known-answer tests only.</summary>
    internal static HpkeSealed Seal(HpkeAead aead, Key ephemeral, PublicKey recipientKey, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        RequireX25519(ephemeral.Algorithm, recipientKey.Algorithm);
        var schedule = SetupBaseS(aead, ephemeral, recipientKey, info)
            ?? throw new CryptographicException("the recipient's X25519 key is a low-order point");
        try
        {
            var output = new byte[plaintext.Length + TagSize];
            using var gcm = new AesGcm(schedule.Key, TagSize);
            gcm.Encrypt(schedule.BaseNonce, plaintext, output.AsSpan(0, plaintext.Length), output.AsSpan(plaintext.Length), aad);
            return new HpkeSealed(schedule.Enc, output);
        }
        finally
        {
            schedule.Clear();
        }
    }

    internal static HpkeOpenResult Open(HpkeAead aead, Key recipientKey, ReadOnlySpan<byte> enc, ReadOnlySpan<byte> info, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext)
    {
        RequireX25519(recipientKey.Algorithm, KeyAgreementAlgorithm.X25519);
        if (enc.Length != EncSize || !PublicKey.TryImport(KeyAgreementAlgorithm.X25519, enc, KeyBlobFormat.RawPublicKey, out var ephemeralPublic))
        {
            return HpkeOpenResult.Failure("hpke.bad_enc", "the encapsulated key is not a 32-byte X25519 public key");
        }

        if (ciphertext.Length < TagSize)
        {
            return HpkeOpenResult.Failure("hpke.open_failed", "the ciphertext is shorter than its authentication tag");
        }

        var dh = Dh(recipientKey, ephemeralPublic!);
        if (dh is null)
        {
            return HpkeOpenResult.Failure("hpke.bad_enc", "the encapsulated key is a low-order X25519 point");
        }

        var recipientPublic = recipientKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var schedule = KeySchedule(aead, dh, enc.ToArray(), recipientPublic, info);
        try
        {
            var plaintext = new byte[ciphertext.Length - TagSize];
            using var gcm = new AesGcm(schedule.Key, TagSize);
            try
            {
                gcm.Decrypt(schedule.BaseNonce, ciphertext[..plaintext.Length], ciphertext[plaintext.Length..], plaintext, aad);
            }
            catch (AuthenticationTagMismatchException)
            {
                return HpkeOpenResult.Failure("hpke.open_failed", "the ciphertext does not open under this key, info and aad (wrong recipient or tampered)");
            }

            return HpkeOpenResult.Success(plaintext);
        }
        finally
        {
            schedule.Clear();
        }
    }

    /// <summary>Encap (§4.1) and KeySchedule (§5.1) for the sender; null if the DH output is all zero.</summary>
    internal static HpkeKeySchedule? SetupBaseS(HpkeAead aead, Key ephemeral, PublicKey recipientKey, ReadOnlySpan<byte> info)
    {
        var dh = Dh(ephemeral, recipientKey);
        if (dh is null)
        {
            return null;
        }

        var enc = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        return KeySchedule(aead, dh, enc, recipientKey.Export(KeyBlobFormat.RawPublicKey), info);
    }

    private static HpkeKeySchedule KeySchedule(HpkeAead aead, byte[] dh, byte[] enc, byte[] recipientPublic, ReadOnlySpan<byte> info)
    {
        // DHKEM ExtractAndExpand: kem_context = enc ‖ pkRm.
        var eaePrk = LabeledExtract(s_kemSuite, [], "eae_prk"u8, dh);
        CryptographicOperations.ZeroMemory(dh);
        var sharedSecret = LabeledExpand(s_kemSuite, eaePrk, "shared_secret"u8, [.. enc, .. recipientPublic], HashSize);
        CryptographicOperations.ZeroMemory(eaePrk);

        // Base mode: psk = psk_id = "" (§5.1).
        var suite = new byte[10];
        "HPKE"u8.CopyTo(suite);
        BinaryPrimitives.WriteUInt16BigEndian(suite.AsSpan(4), KemId);
        BinaryPrimitives.WriteUInt16BigEndian(suite.AsSpan(6), KdfId);
        BinaryPrimitives.WriteUInt16BigEndian(suite.AsSpan(8), (ushort)aead);
        var pskIdHash = LabeledExtract(suite, [], "psk_id_hash"u8, []);
        var infoHash = LabeledExtract(suite, [], "info_hash"u8, info);
        byte[] context = [0x00, .. pskIdHash, .. infoHash];
        var secret = LabeledExtract(suite, sharedSecret, "secret"u8, []);
        var key = LabeledExpand(suite, secret, "key"u8, context, aead == HpkeAead.Aes128Gcm ? 16 : 32);
        var baseNonce = LabeledExpand(suite, secret, "base_nonce"u8, context, NonceSize);
        CryptographicOperations.ZeroMemory(secret);
        return new HpkeKeySchedule(enc, sharedSecret, key, baseNonce);
    }

    private static byte[]? Dh(Key privateKey, PublicKey publicKey)
    {
        // libsodium refuses an all-zero X25519 output (RFC 7748 §6.1, RFC 9180 §7.1.4): null here.
        using var shared = KeyAgreementAlgorithm.X25519.Agree(privateKey, publicKey, new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return shared?.Export(SharedSecretBlobFormat.RawSharedSecret);
    }

    private static byte[] LabeledExtract(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> label, ReadOnlySpan<byte> ikm)
    {
        byte[] labeledIkm = [.. s_version, .. suiteId, .. label, .. ikm];
        var prk = new byte[HashSize];
        HKDF.Extract(HashAlgorithmName.SHA256, labeledIkm, salt, prk);
        CryptographicOperations.ZeroMemory(labeledIkm);
        return prk;
    }

    private static byte[] LabeledExpand(ReadOnlySpan<byte> suiteId, ReadOnlySpan<byte> prk, ReadOnlySpan<byte> label, ReadOnlySpan<byte> info, int length)
    {
        byte[] labeledInfo = [(byte)(length >> 8), (byte)length, .. s_version, .. suiteId, .. label, .. info];
        var output = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, output, labeledInfo);
        return output;
    }

    private static void RequireX25519(Algorithm a, Algorithm b)
    {
        if (a is not X25519 || b is not X25519)
        {
            throw new ArgumentException("HPKE DHKEM(X25519, HKDF-SHA256) needs X25519 keys");
        }
    }
}

// Azure Key Vault Secure Key Release "key_hsm" envelope (Azure Key Vault SKR docs; BYOK
// CKM_RSA_AES_KEY_WRAP transfer-blob convention):
//   key_hsm    = base64url(JSON {"schema_version":"1.0","header":{"kid","alg":"dir","enc"},"ciphertext"})
//   ciphertext = base64url( RSA-OAEP(ephemeral AES-256 key)            -- RFC 8017 section 7.1, |n| bytes
//                         ‖ AES-KWP(ephemeral key, target key) )       -- RFC 5649, AIV A6 59 59 A6
// OAEP hash (MGF1 with the same hash, empty label): SHA-1 for CKM_RSA_AES_KEY_WRAP, SHA-256 for
// RSA_AES_KEY_WRAP_256, SHA-384 for RSA_AES_KEY_WRAP_384. Wrapping RSA key: 2048 bits or more.
using System.Security.Cryptography;
using System.Text;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>Creates (broker side) and opens (enclave side) the <c>key_hsm</c> envelope of a released key.</summary>
public static class KeyHsmEnvelope
{
    /// <summary>The only envelope schema version written and accepted.</summary>
    public const string SchemaVersion = "1.0";

    /// <summary>Smallest wrapping RSA modulus accepted, in bits.</summary>
    public const int MinimumRsaKeySizeBits = 2048;

    private const int EphemeralKeyBytes = 32;

    /// <summary>
    /// Wraps <paramref name="targetKey"/> for the holder of the private half of
    /// <paramref name="wrappingPublicKey"/> and returns the base64url <c>key_hsm</c> string.
    /// </summary>
    public static string Create(ReadOnlySpan<byte> targetKey, RSA wrappingPublicKey, string kid, KeyWrapAlgorithm enc)
    {
        ArgumentNullException.ThrowIfNull(wrappingPublicKey);
        ArgumentException.ThrowIfNullOrEmpty(kid);
        if (!KeyWrapAlgorithmNames.IsDefined(enc))
        {
            throw new ArgumentOutOfRangeException(nameof(enc), enc, "Not a key wrap algorithm.");
        }

        if (targetKey.IsEmpty)
        {
            throw new ArgumentException("The target key is empty.", nameof(targetKey));
        }

        if (wrappingPublicKey.KeySize < MinimumRsaKeySizeBits)
        {
            throw new ArgumentException($"The wrapping RSA key must have at least {MinimumRsaKeySizeBits} bits.", nameof(wrappingPublicKey));
        }

        var ephemeral = RandomNumberGenerator.GetBytes(EphemeralKeyBytes);
        try
        {
            byte[] wrappedEphemeral;
            lock (wrappingPublicKey) // the key may be shared between concurrent releases (RuntimeKeySelector's cache)
            {
                wrappedEphemeral = wrappingPublicKey.Encrypt(ephemeral, KeyWrapAlgorithmNames.OaepPadding(enc));
            }

            var wrappedTarget = AesKeyWrapPadded.Wrap(ephemeral, targetKey);

            var ciphertext = new byte[wrappedEphemeral.Length + wrappedTarget.Length];
            wrappedEphemeral.CopyTo(ciphertext, 0);
            wrappedTarget.CopyTo(ciphertext, wrappedEphemeral.Length);

            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("schema_version", SchemaVersion);
                writer.WriteStartObject("header");
                writer.WriteString("kid", kid);
                writer.WriteString("alg", "dir");
                writer.WriteString("enc", enc.ToWireName());
                writer.WriteEndObject();
                writer.WriteString("ciphertext", Base64UrlCodec.Encode(ciphertext));
                writer.WriteEndObject();
            }

            return Base64UrlCodec.Encode(buffer.ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeral);
        }
    }

    /// <summary>
    /// Opens a <c>key_hsm</c> envelope with the enclave's private key. Every failure is a typed
    /// result; the caller must dispose the result to zero the key.
    /// </summary>
    public static KeyUnwrapResult TryOpen(string keyHsm, RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (!Base64UrlCodec.TryDecode(keyHsm, out var json) || !KeyReleaseJson.TryParse(json, out var document))
        {
            return Malformed("not base64url-encoded JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || KeyReleaseJson.GetString(root, "schema_version") != SchemaVersion
                || !root.TryGetProperty("header", out var header)
                || header.ValueKind != JsonValueKind.Object)
            {
                return Malformed($"schema_version must be \"{SchemaVersion}\" with a header object.");
            }

            var kid = KeyReleaseJson.GetString(header, "kid");
            if (string.IsNullOrEmpty(kid) || KeyReleaseJson.GetString(header, "alg") != "dir")
            {
                return Malformed("header needs a kid and alg \"dir\".");
            }

            if (!KeyWrapAlgorithmNames.TryParse(KeyReleaseJson.GetString(header, "enc"), out var enc))
            {
                return KeyUnwrapResult.Failure(KeyReleaseErrorCodes.KeyHsmUnsupportedAlgorithm,
                    "key_hsm envelope uses an unsupported 'enc' algorithm.");
            }

            var modulusBytes = (privateKey.KeySize + 7) / 8;
            if (!Base64UrlCodec.TryDecode(KeyReleaseJson.GetString(root, "ciphertext"), out var ciphertext)
                || ciphertext.Length < modulusBytes + 16 || (ciphertext.Length - modulusBytes) % 8 != 0)
            {
                return Malformed("ciphertext is missing or has an impossible length.");
            }

            return Unwrap(ciphertext, modulusBytes, privateKey, kid, enc);
        }
    }

    private static KeyUnwrapResult Unwrap(byte[] ciphertext, int modulusBytes, RSA privateKey, string kid, KeyWrapAlgorithm enc)
    {
        byte[]? ephemeral = null;
        try
        {
            ephemeral = privateKey.Decrypt(ciphertext.AsSpan(0, modulusBytes), KeyWrapAlgorithmNames.OaepPadding(enc));
            if (ephemeral.Length != EphemeralKeyBytes)
            {
                return UnwrapFailed();
            }

            var target = AesKeyWrapPadded.TryUnwrap(ephemeral, ciphertext.AsSpan(modulusBytes));
            return target is null ? UnwrapFailed() : KeyUnwrapResult.Success(target, kid, enc);
        }
        catch (CryptographicException)
        {
            return UnwrapFailed();
        }
        finally
        {
            if (ephemeral is not null)
            {
                CryptographicOperations.ZeroMemory(ephemeral);
            }
        }
    }

    private static KeyUnwrapResult Malformed(string what) =>
        KeyUnwrapResult.Failure(KeyReleaseErrorCodes.KeyHsmMalformed, "key_hsm envelope is malformed: " + what);

    private static KeyUnwrapResult UnwrapFailed() =>
        KeyUnwrapResult.Failure(KeyReleaseErrorCodes.KeyHsmUnwrapFailed,
            "key_hsm ciphertext did not unwrap with this private key (wrong key or tampered).");
}

// Data key wrapping: the provider wraps its 32-byte dataset key (DEK) to the dataset's
// key-encryption key (RSA-3072 held by the key broker) with RSA-OAEP using SHA-256 (RFC 8017).
// Only an enclave that obtains the KEK through Secure Key Release can unwrap it.
using System.Security.Cryptography;

namespace CleanRoom.Core;

public static class DataKeyWrapping
{
    public const int DataKeySize = 32;

    public static byte[] Wrap(ReadOnlySpan<byte> dataKey, string kekPublicKeyPem)
    {
        if (dataKey.Length != DataKeySize)
        {
            throw new ArgumentException("a data key is 32 bytes", nameof(dataKey));
        }

        using var rsa = RSA.Create();
        rsa.ImportFromPem(kekPublicKeyPem);
        if (rsa.KeySize < 3072)
        {
            throw new CryptographicException("refusing to wrap a data key to an RSA key shorter than 3072 bits");
        }

        return rsa.Encrypt(dataKey.ToArray(), RSAEncryptionPadding.OaepSHA256);
    }

    /// <summary>Returns null when the wrapped key does not decrypt under this KEK (wrong key or tampering).</summary>
    public static byte[]? TryUnwrap(ReadOnlySpan<byte> wrappedKey, RSA kek)
    {
        try
        {
            var dek = kek.Decrypt(wrappedKey.ToArray(), RSAEncryptionPadding.OaepSHA256);
            if (dek.Length == DataKeySize)
            {
                return dek;
            }

            CryptographicOperations.ZeroMemory(dek);
            return null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}

// Target-key encoding for released RSA keys: PKCS#8 PrivateKeyInfo DER (RFC 5208 / RFC 8017
// appendix A.1.2 RSAPrivateKey inside). Our KEKs are RSA-3072 exportable keys.
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace CleanRoom.KeyRelease;

/// <summary>Converts an RSA key to and from the target-key bytes wrapped in a <c>key_hsm</c> envelope.</summary>
public static class RsaTargetKey
{
    /// <summary>The target-key bytes of an RSA private key: its PKCS#8 DER. The caller zeroes them after use.</summary>
    public static byte[] Export(RSA privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        return privateKey.ExportPkcs8PrivateKey();
    }

    /// <summary>
    /// Imports unwrapped target-key bytes as an RSA private key; false if they are not exactly one
    /// PKCS#8 RSA key of at least <see cref="KeyHsmEnvelope.MinimumRsaKeySizeBits"/> bits.
    /// </summary>
    public static bool TryImport(ReadOnlySpan<byte> pkcs8, [NotNullWhen(true)] out RSA? privateKey)
    {
        privateKey = null;
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || rsa.KeySize < KeyHsmEnvelope.MinimumRsaKeySizeBits)
            {
                rsa.Dispose();
                return false;
            }

            privateKey = rsa;
            return true;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            return false;
        }
    }
}

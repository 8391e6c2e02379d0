using System.Security.Cryptography;

namespace CleanRoom.Core;

/// <summary>The sender's RFC 9180 base-mode context: enc, the KEM shared secret, the AEAD key and base nonce.</summary>
internal sealed record HpkeKeySchedule(byte[] Enc, byte[] SharedSecret, byte[] Key, byte[] BaseNonce)
{
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(SharedSecret);
        CryptographicOperations.ZeroMemory(Key);
        CryptographicOperations.ZeroMemory(BaseNonce);
    }
}

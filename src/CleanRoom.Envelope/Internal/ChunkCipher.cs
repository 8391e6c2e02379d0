using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CleanRoom.Envelope.Internal;

/// <summary>
/// The per-file AEAD of SECURITY.md (Dataset envelope): subkey = HKDF-SHA256(DEK, salt, info), nonce = prefix(7) ‖
/// counter(4, big-endian) ‖ last flag(1), AAD = SHA-256(header). Holds one <see cref="AesGcm"/>
/// and fixed nonce/AAD arrays so the per-chunk calls allocate nothing.
/// </summary>
internal sealed class ChunkCipher : IDisposable
{
    /// <summary>HKDF info: names the format, version and purpose so no other use of the DEK can derive this key.</summary>
    internal static ReadOnlySpan<byte> HkdfInfo => "CleanRoom.Envelope v1 AES-256-GCM chunk key"u8;

    private readonly AesGcm _aes;
    private readonly byte[] _nonce = new byte[EnvelopeLayout.NonceSize];
    private readonly byte[] _associatedData = new byte[SHA256.HashSizeInBytes];

    public ChunkCipher(ReadOnlySpan<byte> dataKey, EnvelopeHeader header)
    {
        Span<byte> subkey = stackalloc byte[DatasetEnvelope.KeySize];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, dataKey, subkey, header.Salt, HkdfInfo);
            _aes = new AesGcm(subkey, EnvelopeLayout.TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(subkey);
        }

        header.NoncePrefix.CopyTo(_nonce);
        SHA256.HashData(header.Bytes, _associatedData);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="chunk"/> (ciphertext then 16-byte tag); returns the chunk length.</summary>
    public int Encrypt(uint counter, bool last, ReadOnlySpan<byte> plaintext, Span<byte> chunk)
    {
        SetNonce(counter, last);
        _aes.Encrypt(_nonce, plaintext, chunk[..plaintext.Length], chunk.Slice(plaintext.Length, EnvelopeLayout.TagSize), _associatedData);
        return plaintext.Length + EnvelopeLayout.TagSize;
    }

    /// <summary>
    /// Authenticates and decrypts one chunk (ciphertext ‖ tag). On failure returns false and
    /// <paramref name="plaintext"/> holds zeros (AesGcm clears it), never unauthenticated bytes.
    /// </summary>
    public bool TryDecrypt(uint counter, bool last, ReadOnlySpan<byte> chunk, Span<byte> plaintext)
    {
        SetNonce(counter, last);
        int length = chunk.Length - EnvelopeLayout.TagSize;
        try
        {
            _aes.Decrypt(_nonce, chunk[..length], chunk[length..], plaintext[..length], _associatedData);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public void Dispose() => _aes.Dispose();

    private void SetNonce(uint counter, bool last)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_nonce.AsSpan(EnvelopeLayout.CounterOffset, 4), counter);
        _nonce[EnvelopeLayout.LastFlagOffset] = last ? (byte)1 : (byte)0;
    }
}

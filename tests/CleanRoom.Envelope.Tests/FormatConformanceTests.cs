using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.Envelope.Tests;

/// <summary>
/// Decrypts an envelope with nothing but the BCL primitives and SECURITY.md (Dataset envelope), so the document and the
/// code cannot drift apart (and an independent implementation has a reference to follow).
/// </summary>
public sealed class FormatConformanceTests
{
    [Fact]
    public async Task Envelope_decrypts_by_following_FORMAT_md_alone()
    {
        byte[] key = Envelopes.NewKey();
        byte[] plaintext = Envelopes.Plaintext((2 * 4096) + 77);
        (byte[] file, _) = await Envelopes.EncryptAsync(plaintext, key, new EnvelopeOptions { DatasetId = "ds-1", ContentType = "text/csv", ChunkSize = 4096 });

        // Header.
        Assert.Equal("CRENV\r\n\u001a"u8.ToArray(), file[..8]);
        Assert.Equal(1, file[8]);
        Assert.Equal(1, file[9]);
        int chunkSize = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(10, 4));
        byte[] salt = file[14..46];
        byte[] prefix = file[46..53];
        int idLength = file[53];
        string datasetId = Encoding.UTF8.GetString(file, 54, idLength);
        int typeLength = file[54 + idLength];
        string contentType = Encoding.UTF8.GetString(file, 55 + idLength, typeLength);
        int headerLength = 55 + idLength + typeLength;
        Assert.Equal(4096, chunkSize);
        Assert.Equal("ds-1", datasetId);
        Assert.Equal("text/csv", contentType);

        // Key, associated data, chunks.
        byte[] subkey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt, "CleanRoom.Envelope v1 AES-256-GCM chunk key"u8.ToArray());
        byte[] aad = SHA256.HashData(file.AsSpan(0, headerLength));
        using var aes = new AesGcm(subkey, 16);
        var recovered = new List<byte>();
        int offset = headerLength;
        for (uint counter = 0; ; counter++)
        {
            bool last = file.Length - offset <= chunkSize + 16;
            int length = last ? file.Length - offset : chunkSize + 16;
            var nonce = new byte[12];
            prefix.CopyTo(nonce, 0);
            BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(7), counter);
            nonce[11] = last ? (byte)1 : (byte)0;
            var chunk = new byte[length - 16];
            aes.Decrypt(nonce, file.AsSpan(offset, length - 16), file.AsSpan(offset + length - 16, 16), chunk, aad);
            recovered.AddRange(chunk);
            offset += length;
            if (last)
            {
                break;
            }
        }

        Assert.Equal(plaintext, recovered.ToArray());
    }
}

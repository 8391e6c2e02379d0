using System.Security.Cryptography;

namespace CleanRoom.Envelope.Tests;

/// <summary>Helpers shared by the envelope tests.</summary>
internal static class Envelopes
{
    public const string DatasetId = "ds-claims-2026";
    public const int SmallChunk = DatasetEnvelope.MinChunkSize;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(DatasetEnvelope.KeySize);

    public static byte[] Plaintext(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static EnvelopeOptions Options(int chunkSize = SmallChunk, string datasetId = DatasetId) =>
        new() { DatasetId = datasetId, ChunkSize = chunkSize };

    public static async Task<(byte[] Ciphertext, EnvelopeInfo Info)> EncryptAsync(byte[] plaintext, byte[] key, EnvelopeOptions? options = null)
    {
        using var output = new MemoryStream();
        using var input = new MemoryStream(plaintext, writable: false);
        EnvelopeInfo info = await DatasetEnvelope.EncryptAsync(input, output, key, options ?? Options());
        return (output.ToArray(), info);
    }

    public static async Task<(EnvelopeDecryptResult Result, byte[] Plaintext)> DecryptAsync(byte[] ciphertext, byte[] key, string datasetId = DatasetId)
    {
        using var output = new MemoryStream();
        using var input = new MemoryStream(ciphertext, writable: false);
        EnvelopeDecryptResult result = await DatasetEnvelope.DecryptAsync(input, output, key, datasetId);
        return (result, output.ToArray());
    }

    public static int HeaderLength(byte[] ciphertext)
    {
        using var input = new MemoryStream(ciphertext, writable: false);
        Assert.True(DatasetEnvelope.TryReadHeader(input, out EnvelopeHeader? header, out string? error), error);
        return header.Length;
    }

    /// <summary>Offset of chunk <paramref name="index"/> (all chunks but the last are chunk size + tag long).</summary>
    public static int ChunkOffset(byte[] ciphertext, int index, int chunkSize = SmallChunk) =>
        HeaderLength(ciphertext) + (index * (chunkSize + DatasetEnvelope.TagSize));

    public static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var result = new byte[parts.ToArray().Sum(p => p.Length)];
        int offset = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }

    /// <summary>Reads the whole read stream with reads of <paramref name="readSize"/> bytes, keeping what was returned before any exception.</summary>
    public static (byte[] Returned, EnvelopeAuthenticationException? Error) ReadAll(byte[] ciphertext, byte[] key, int readSize, string datasetId = DatasetId)
    {
        using var stream = DatasetEnvelope.OpenRead(new MemoryStream(ciphertext, writable: false), key, datasetId);
        using var returned = new MemoryStream();
        var buffer = new byte[readSize];
        try
        {
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                returned.Write(buffer, 0, read);
            }

            return (returned.ToArray(), null);
        }
        catch (EnvelopeAuthenticationException exception)
        {
            return (returned.ToArray(), exception);
        }
    }
}

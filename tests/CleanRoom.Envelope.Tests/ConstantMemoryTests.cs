using System.Buffers.Binary;

namespace CleanRoom.Envelope.Tests;

/// <summary>Not timing based: counts bytes allocated by the process while large streams go through.</summary>
[Collection(nameof(ConstantMemoryTests))]
[CollectionDefinition(nameof(ConstantMemoryTests), DisableParallelization = true)]
public sealed class ConstantMemoryTests
{
    private const long Size = 64L * 1024 * 1024;
    private const long Budget = 8L * 1024 * 1024;

    [Fact]
    public async Task Encrypting_64_MiB_through_non_seekable_streams_allocates_a_few_MiB_at_most()
    {
        byte[] key = Envelopes.NewKey();
        var sink = new CountingSink();

        long before = GC.GetTotalAllocatedBytes(precise: true);
        EnvelopeInfo info = await DatasetEnvelope.EncryptAsync(new PatternStream(Size), sink, key, new EnvelopeOptions { DatasetId = Envelopes.DatasetId });
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(Size, info.PlaintextLength);
        Assert.Equal(info.CiphertextLength, sink.Written);
        Assert.True(allocated < Budget, $"allocated {allocated} bytes to encrypt {Size}");
    }

    [Fact]
    public async Task Decrypting_64_MiB_allocates_a_few_MiB_at_most()
    {
        byte[] key = Envelopes.NewKey();
        using var ciphertext = new MemoryStream();
        await DatasetEnvelope.EncryptAsync(new PatternStream(Size), ciphertext, key, new EnvelopeOptions { DatasetId = Envelopes.DatasetId });
        ciphertext.Position = 0;
        var sink = new CountingSink();

        long before = GC.GetTotalAllocatedBytes(precise: true);
        EnvelopeDecryptResult result = await DatasetEnvelope.DecryptAsync(ciphertext, sink, key, Envelopes.DatasetId);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(result.Success, result.Reason);
        Assert.Equal(Size, sink.Written);
        Assert.True(allocated < Budget, $"allocated {allocated} bytes to decrypt {Size}");
    }

    [Fact]
    public async Task Reading_64_MiB_through_the_read_stream_allocates_a_few_MiB_at_most()
    {
        byte[] key = Envelopes.NewKey();
        using var ciphertext = new MemoryStream();
        await DatasetEnvelope.EncryptAsync(new PatternStream(Size), ciphertext, key, new EnvelopeOptions { DatasetId = Envelopes.DatasetId });
        ciphertext.Position = 0;
        var buffer = new byte[81920];

        long before = GC.GetTotalAllocatedBytes(precise: true);
        long total = 0;
        using (EnvelopeReadStream stream = DatasetEnvelope.OpenRead(ciphertext, key, Envelopes.DatasetId, leaveOpen: true))
        {
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                total += read;
            }
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(Size, total);
        Assert.True(allocated < Budget, $"allocated {allocated} bytes to read {Size}");
    }

    [Fact]
    public async Task Encrypt_and_decrypt_allocate_nothing_per_chunk()
    {
        // 16 MiB in 4 KiB chunks is 4096 chunks: even 64 bytes per chunk would show as 256 KiB.
        const long size = 16L * 1024 * 1024;
        byte[] key = Envelopes.NewKey();
        EnvelopeOptions options = Envelopes.Options(DatasetEnvelope.MinChunkSize);
        using var ciphertext = new MemoryStream(capacity: (int)size + (1 << 20));
        // Warm pools, JIT and tiering so that only steady-state allocations are counted.
        await DatasetEnvelope.EncryptAsync(new PatternStream(size), ciphertext, key, options);
        ciphertext.Position = 0;
        Assert.True((await DatasetEnvelope.DecryptAsync(ciphertext, new CountingSink(), key, Envelopes.DatasetId)).Success);
        ciphertext.SetLength(0);

        // GC.GetTotalAllocatedBytes is process-wide, so a background JIT or thread-pool allocation on a
        // loaded machine can land in one window. Per-chunk allocation is deterministic and would show
        // in every run, so the smallest of three runs is what the code itself allocates.
        long encryptAllocated = long.MaxValue, decryptAllocated = long.MaxValue;
        EnvelopeDecryptResult result = null!;
        for (int run = 0; run < 3; run++)
        {
            ciphertext.SetLength(0);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await DatasetEnvelope.EncryptAsync(new PatternStream(size), ciphertext, key, options);
            encryptAllocated = Math.Min(encryptAllocated, GC.GetTotalAllocatedBytes(precise: true) - before);

            ciphertext.Position = 0;
            before = GC.GetTotalAllocatedBytes(precise: true);
            result = await DatasetEnvelope.DecryptAsync(ciphertext, new CountingSink(), key, Envelopes.DatasetId);
            decryptAllocated = Math.Min(decryptAllocated, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(result.Success, result.Reason);
        Assert.True(encryptAllocated < 64 * 1024, $"encrypt allocated {encryptAllocated} bytes over 4096 chunks");
        Assert.True(decryptAllocated < 64 * 1024, $"decrypt allocated {decryptAllocated} bytes over 4096 chunks");
    }

    [Fact]
    public async Task Hostile_chunk_size_is_refused_before_anything_sized_by_it_is_allocated()
    {
        byte[] key = Envelopes.NewKey();
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), key);
        BinaryPrimitives.WriteUInt32BigEndian(ciphertext.AsSpan(10), 1u << 30);
        using var input = new MemoryStream(ciphertext);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        EnvelopeDecryptResult result = await DatasetEnvelope.DecryptAsync(input, new CountingSink(), key, Envelopes.DatasetId);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(EnvelopeErrorCodes.BadHeader, result.ErrorCode);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes to refuse a hostile header");
    }
}

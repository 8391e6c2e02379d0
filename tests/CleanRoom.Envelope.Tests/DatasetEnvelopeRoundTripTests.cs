using System.Security.Cryptography;

namespace CleanRoom.Envelope.Tests;

public sealed class DatasetEnvelopeRoundTripTests
{
    private const int Chunk = Envelopes.SmallChunk;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 1)]
    [InlineData(2 * Chunk)]
    [InlineData((3 * Chunk) + 17)]
    public async Task Decrypt_returns_the_plaintext_for_sizes_around_the_chunk_size(int size)
    {
        byte[] key = Envelopes.NewKey();
        byte[] plaintext = Envelopes.Plaintext(size);

        (byte[] ciphertext, EnvelopeInfo info) = await Envelopes.EncryptAsync(plaintext, key);
        (EnvelopeDecryptResult result, byte[] decrypted) = await Envelopes.DecryptAsync(ciphertext, key);

        Assert.True(result.Success, result.Reason);
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(size, result.PlaintextLength);
        Assert.Equal(size, info.PlaintextLength);
        int chunks = Math.Max(1, (size + Chunk - 1) / Chunk);
        Assert.Equal(Envelopes.HeaderLength(ciphertext) + size + (chunks * DatasetEnvelope.TagSize), ciphertext.Length);
    }

    [Fact]
    public async Task Empty_plaintext_round_trips_as_one_final_empty_chunk()
    {
        byte[] key = Envelopes.NewKey();

        (byte[] ciphertext, EnvelopeInfo info) = await Envelopes.EncryptAsync([], key);
        (EnvelopeDecryptResult result, byte[] decrypted) = await Envelopes.DecryptAsync(ciphertext, key);

        Assert.True(result.Success, result.Reason);
        Assert.Empty(decrypted);
        Assert.Equal(Envelopes.HeaderLength(ciphertext) + DatasetEnvelope.TagSize, ciphertext.Length);
        Assert.Equal(ciphertext.Length, info.CiphertextLength);
    }

    [Fact]
    public async Task Several_megabytes_round_trip_with_the_default_chunk_size()
    {
        byte[] key = Envelopes.NewKey();
        byte[] plaintext = Envelopes.Plaintext((5 * 1024 * 1024) + 12345);

        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(plaintext, key, new EnvelopeOptions { DatasetId = Envelopes.DatasetId });
        (EnvelopeDecryptResult result, byte[] decrypted) = await Envelopes.DecryptAsync(ciphertext, key);

        Assert.True(result.Success, result.Reason);
        Assert.Equal(DatasetEnvelope.DefaultChunkSize, result.Header.ChunkSize);
        Assert.Equal(plaintext, decrypted);
    }

    [Fact]
    public async Task Returned_ciphertext_sha256_and_lengths_match_the_written_bytes()
    {
        byte[] plaintext = Envelopes.Plaintext((2 * Chunk) + 5);

        (byte[] ciphertext, EnvelopeInfo info) = await Envelopes.EncryptAsync(plaintext, Envelopes.NewKey());

        Assert.Equal(SHA256.HashData(ciphertext), info.CiphertextSha256);
        Assert.Equal(ciphertext.Length, info.CiphertextLength);
        Assert.Equal(plaintext.Length, info.PlaintextLength);
        Assert.Equal(Envelopes.DatasetId, info.DatasetId);
        Assert.Equal("text/csv", info.ContentType);
    }

    [Fact]
    public async Task Header_carries_dataset_id_content_type_and_chunk_size()
    {
        var options = new EnvelopeOptions { DatasetId = "ds-ünïcode/1", ContentType = "application/vnd.apache.parquet", ChunkSize = 65536 };
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(10), Envelopes.NewKey(), options);

        using var input = new MemoryStream(ciphertext);
        Assert.True(DatasetEnvelope.TryReadHeader(input, out EnvelopeHeader? header, out string? error), error);

        Assert.Equal("ds-ünïcode/1", header.DatasetId);
        Assert.Equal("application/vnd.apache.parquet", header.ContentType);
        Assert.Equal(65536, header.ChunkSize);
        Assert.Equal(1, header.Version);
        Assert.Equal(header.Length, input.Position);
    }

    [Fact]
    public async Task Encrypting_the_same_plaintext_twice_gives_different_ciphertexts()
    {
        byte[] key = Envelopes.NewKey();
        byte[] plaintext = Envelopes.Plaintext(100);

        (byte[] first, _) = await Envelopes.EncryptAsync(plaintext, key);
        (byte[] second, _) = await Envelopes.EncryptAsync(plaintext, key);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Progress_reports_plaintext_bytes_after_each_chunk()
    {
        var reports = new List<long>();
        var progress = new SynchronousProgress(reports.Add);
        using var output = new MemoryStream();

        await DatasetEnvelope.EncryptAsync(new MemoryStream(Envelopes.Plaintext((2 * Chunk) + 1)), output, Envelopes.NewKey(), Envelopes.Options(), progress);

        Assert.Equal([Chunk, 2 * Chunk, (2 * Chunk) + 1], reports);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(DatasetEnvelope.MinChunkSize - 1)]
    [InlineData(DatasetEnvelope.MaxChunkSize + 1)]
    public async Task Encrypt_refuses_a_chunk_size_out_of_bounds(int chunkSize)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            DatasetEnvelope.EncryptAsync(new MemoryStream(), new MemoryStream(), Envelopes.NewKey(), Envelopes.Options(chunkSize)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("line\nbreak")]
    [InlineData("sales\u202Ev2")]
    [InlineData("sales\u200Bv2")]
    public async Task Encrypt_refuses_an_empty_or_control_character_dataset_id(string datasetId)
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            DatasetEnvelope.EncryptAsync(new MemoryStream(), new MemoryStream(), Envelopes.NewKey(), Envelopes.Options(datasetId: datasetId)));
    }

    [Fact]
    public async Task Encrypt_refuses_a_dataset_id_longer_than_255_utf8_bytes()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            DatasetEnvelope.EncryptAsync(new MemoryStream(), new MemoryStream(), Envelopes.NewKey(), Envelopes.Options(datasetId: new string('é', 128))));
    }

    [Fact]
    public async Task Encrypt_refuses_a_key_that_is_not_32_bytes()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            DatasetEnvelope.EncryptAsync(new MemoryStream(), new MemoryStream(), new byte[16], Envelopes.Options()));
    }

    [Fact]
    public async Task Cancelled_encrypt_and_decrypt_throw_OperationCanceledException()
    {
        byte[] key = Envelopes.NewKey();
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(3 * Chunk), key);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DatasetEnvelope.EncryptAsync(new MemoryStream(new byte[10]), new MemoryStream(), key, Envelopes.Options(), cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DatasetEnvelope.DecryptAsync(new MemoryStream(ciphertext), new MemoryStream(), key, Envelopes.DatasetId, cancellationToken: cancelled.Token));
    }

    [Fact]
    public async Task Decrypt_progress_reports_plaintext_bytes_after_each_chunk()
    {
        byte[] key = Envelopes.NewKey();
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(Chunk + 1), key);
        var reports = new List<long>();

        EnvelopeDecryptResult result = await DatasetEnvelope.DecryptAsync(
            new MemoryStream(ciphertext), new MemoryStream(), key, Envelopes.DatasetId, new SynchronousProgress(reports.Add));

        Assert.True(result.Success, result.Reason);
        Assert.Equal([Chunk, Chunk + 1], reports);
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

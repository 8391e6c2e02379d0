namespace CleanRoom.Envelope.Tests;

public sealed class EnvelopeReadStreamTests
{
    private const int Chunk = Envelopes.SmallChunk;

    private readonly byte[] _key = Envelopes.NewKey();
    private readonly byte[] _plaintext = Envelopes.Plaintext((3 * Chunk) + 321);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 3)]
    [InlineData(100_000)]
    public async Task Read_stream_returns_the_plaintext_for_any_read_size(int readSize)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (byte[] returned, EnvelopeAuthenticationException? error) = Envelopes.ReadAll(ciphertext, _key, readSize);

        Assert.Null(error);
        Assert.Equal(_plaintext, returned);
    }

    [Fact]
    public async Task Read_stream_async_copy_returns_the_plaintext()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        await using EnvelopeReadStream stream = DatasetEnvelope.OpenRead(new MemoryStream(ciphertext), _key, Envelopes.DatasetId);
        using var output = new MemoryStream();

        await stream.CopyToAsync(output);

        Assert.Equal(_plaintext, output.ToArray());
        Assert.Equal(_plaintext.Length, stream.Position);
    }

    [Fact]
    public async Task Read_stream_of_an_empty_plaintext_ends_immediately()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync([], _key);
        using EnvelopeReadStream stream = DatasetEnvelope.OpenRead(new MemoryStream(ciphertext), _key, Envelopes.DatasetId);

        Assert.Equal(-1, stream.ReadByte());
        Assert.Equal(0, stream.Read(new byte[10]));
    }

    [Fact]
    public async Task Read_stream_ReadHeaderAsync_gives_the_header_before_any_chunk()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        using EnvelopeReadStream stream = DatasetEnvelope.OpenRead(new MemoryStream(ciphertext), _key, Envelopes.DatasetId);

        EnvelopeHeader header = await stream.ReadHeaderAsync();

        Assert.Equal("text/csv", header.ContentType);
        Assert.Equal(0, stream.Position);
        Assert.Equal(_plaintext[0], stream.ReadByte());
    }

    [Fact]
    public async Task Read_stream_never_yields_bytes_of_a_tampered_chunk()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        for (int chunk = 0; chunk < 4; chunk++)
        {
            foreach (int position in new[] { 0, 1, 100 })
            {
                byte[] tampered = (byte[])ciphertext.Clone();
                tampered[Envelopes.ChunkOffset(ciphertext, chunk) + position] ^= 0x40;

                (byte[] returned, EnvelopeAuthenticationException? error) = Envelopes.ReadAll(tampered, _key, readSize: 1000);

                Assert.NotNull(error);
                Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, error.ErrorCode);
                Assert.Equal(chunk * Chunk, returned.Length);
                Assert.Equal(_plaintext.AsSpan(0, returned.Length).ToArray(), returned);
            }
        }
    }

    [Fact]
    public async Task Read_stream_throws_on_truncation_instead_of_ending()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        byte[] truncated = ciphertext.AsSpan(0, Envelopes.ChunkOffset(ciphertext, 3)).ToArray();

        (byte[] returned, EnvelopeAuthenticationException? error) = Envelopes.ReadAll(truncated, _key, readSize: 4096);

        Assert.NotNull(error);
        Assert.Equal(EnvelopeErrorCodes.Truncated, error.ErrorCode);
        Assert.Equal(2 * Chunk, returned.Length);
    }

    [Fact]
    public async Task Read_stream_throws_on_trailing_data()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(Chunk), _key);

        (_, EnvelopeAuthenticationException? error) = Envelopes.ReadAll(Envelopes.Concat(ciphertext, [1, 2, 3]), _key, readSize: 4096);

        Assert.Equal(EnvelopeErrorCodes.TrailingData, error?.ErrorCode);
    }

    [Fact]
    public async Task Read_stream_throws_on_a_wrong_key_and_a_wrong_dataset_id()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (byte[] wrongKeyBytes, EnvelopeAuthenticationException? wrongKey) = Envelopes.ReadAll(ciphertext, Envelopes.NewKey(), 100);
        (byte[] wrongIdBytes, EnvelopeAuthenticationException? wrongId) = Envelopes.ReadAll(ciphertext, _key, 100, datasetId: "ds-other");

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, wrongKey?.ErrorCode);
        Assert.Equal(EnvelopeErrorCodes.DatasetMismatch, wrongId?.ErrorCode);
        Assert.Empty(wrongKeyBytes);
        Assert.Empty(wrongIdBytes);
    }

    [Fact]
    public async Task Read_stream_keeps_throwing_after_a_failure()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        ciphertext[^1] ^= 1;
        using EnvelopeReadStream stream = DatasetEnvelope.OpenRead(new MemoryStream(ciphertext), _key, Envelopes.DatasetId);
        var buffer = new byte[_plaintext.Length * 2];

        Assert.Throws<EnvelopeAuthenticationException>(() =>
        {
            while (stream.Read(buffer) > 0)
            {
            }
        });

        Assert.Throws<EnvelopeAuthenticationException>(() => stream.Read(buffer));
        await Assert.ThrowsAsync<EnvelopeAuthenticationException>(async () => _ = await stream.ReadAsync(buffer));
    }

    [Fact]
    public async Task Read_stream_failure_is_an_IOException_for_stream_consumers()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        ciphertext[^1] ^= 1;
        using var reader = new StreamReader(DatasetEnvelope.OpenRead(new MemoryStream(ciphertext), _key, Envelopes.DatasetId));

        Exception exception = await Record.ExceptionAsync(() => reader.ReadToEndAsync());

        Assert.IsAssignableFrom<IOException>(exception);
    }

    [Fact]
    public async Task Read_stream_disposes_the_ciphertext_unless_asked_to_leave_it_open()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        var owned = new MemoryStream(ciphertext);
        var borrowed = new MemoryStream(ciphertext);

        DatasetEnvelope.OpenRead(owned, _key, Envelopes.DatasetId).Dispose();
        DatasetEnvelope.OpenRead(borrowed, _key, Envelopes.DatasetId, leaveOpen: true).Dispose();

        Assert.False(owned.CanRead);
        Assert.True(borrowed.CanRead);
    }
}

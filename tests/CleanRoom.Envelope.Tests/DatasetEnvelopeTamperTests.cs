using System.Buffers.Binary;

namespace CleanRoom.Envelope.Tests;

public sealed class DatasetEnvelopeTamperTests
{
    private const int Chunk = Envelopes.SmallChunk;
    private const int FullChunk = Chunk + DatasetEnvelope.TagSize;

    private readonly byte[] _key = Envelopes.NewKey();
    private readonly byte[] _plaintext = Envelopes.Plaintext((2 * Chunk) + 1000);

    [Fact]
    public async Task Decrypt_with_one_flipped_byte_anywhere_fails()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        for (int i = 0; i < ciphertext.Length; i++)
        {
            byte[] tampered = (byte[])ciphertext.Clone();
            tampered[i] ^= 0x01;

            (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(tampered, _key);

            Assert.False(result.Success, $"flipping byte {i} went unnoticed");
            Assert.StartsWith("envelope.", result.ErrorCode, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Decrypt_with_a_flipped_tag_byte_fails_with_authentication_failed(int chunk)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        int chunkEnd = chunk == 2 ? ciphertext.Length : Envelopes.ChunkOffset(ciphertext, chunk + 1);
        ciphertext[chunkEnd - 1] ^= 0x80;

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Equal(chunk * Chunk, result.PlaintextLength);
        Assert.Equal(_plaintext.AsSpan(0, chunk * Chunk).ToArray(), written);
    }

    [Fact]
    public async Task Decrypt_with_an_edited_content_type_fails_with_authentication_failed()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        int headerLength = Envelopes.HeaderLength(ciphertext);
        ciphertext[headerLength - 1] = (byte)'x'; // last byte of "text/csv"

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Empty(written);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Decrypt_truncated_at_a_chunk_boundary_fails_with_truncated(int keptChunks)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        byte[] truncated = ciphertext.AsSpan(0, Envelopes.ChunkOffset(ciphertext, keptChunks)).ToArray();

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(truncated, _key);

        Assert.Equal(EnvelopeErrorCodes.Truncated, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_truncated_right_after_the_header_fails_with_truncated()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext.AsSpan(0, Envelopes.HeaderLength(ciphertext)).ToArray(), _key);

        Assert.Equal(EnvelopeErrorCodes.Truncated, result.ErrorCode);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5)]
    [InlineData(1)]
    public async Task Decrypt_truncated_inside_the_header_fails_with_truncated(int length)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext.AsSpan(0, length).ToArray(), _key);

        Assert.Equal(EnvelopeErrorCodes.Truncated, result.ErrorCode);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(100)]
    [InlineData(FullChunk - 1)]
    public async Task Decrypt_truncated_mid_chunk_fails(int cut)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        byte[] truncated = ciphertext.AsSpan(0, Envelopes.ChunkOffset(ciphertext, 1) + cut).ToArray();

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(truncated, _key);

        Assert.False(result.Success);
        Assert.Contains(result.ErrorCode, new[] { EnvelopeErrorCodes.Truncated, EnvelopeErrorCodes.AuthenticationFailed });
    }

    [Fact]
    public async Task Decrypt_with_the_final_chunk_cut_short_fails()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext.AsSpan(0, ciphertext.Length - 1).ToArray(), _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Equal(2 * Chunk, written.Length);
    }

    [Fact]
    public async Task Decrypt_with_swapped_chunks_fails()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        int first = Envelopes.ChunkOffset(ciphertext, 0);
        int second = Envelopes.ChunkOffset(ciphertext, 1);
        byte[] reordered = (byte[])ciphertext.Clone();
        ciphertext.AsSpan(second, FullChunk).CopyTo(reordered.AsSpan(first));
        ciphertext.AsSpan(first, FullChunk).CopyTo(reordered.AsSpan(second));

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(reordered, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Empty(written);
    }

    [Fact]
    public async Task Decrypt_with_a_chunk_from_another_file_under_the_same_key_fails()
    {
        (byte[] mine, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        (byte[] theirs, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        byte[] spliced = (byte[])mine.Clone();
        int offset = Envelopes.ChunkOffset(mine, 1);
        theirs.AsSpan(offset, FullChunk).CopyTo(spliced.AsSpan(offset));

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(spliced, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Equal(Chunk, written.Length);
    }

    [Fact]
    public async Task Decrypt_with_the_header_of_another_file_under_the_same_key_fails()
    {
        (byte[] mine, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        (byte[] theirs, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        int headerLength = Envelopes.HeaderLength(mine);
        byte[] spliced = Envelopes.Concat(theirs.AsSpan(0, headerLength).ToArray(), mine.AsSpan(headerLength).ToArray());

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(spliced, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_with_the_final_chunk_of_another_file_appended_fails()
    {
        (byte[] mine, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        (byte[] theirs, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(3 * Chunk), _key);
        byte[] spliced = Envelopes.Concat(mine, theirs.AsSpan(Envelopes.ChunkOffset(theirs, 2)).ToArray());

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(spliced, _key);

        Assert.False(result.Success);
    }

    [Fact]
    public async Task Decrypt_with_a_wrong_key_fails_with_authentication_failed()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext, Envelopes.NewKey());

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Empty(written);
        Assert.Equal(0, result.PlaintextLength);
    }

    [Fact]
    public async Task Decrypt_with_a_wrong_dataset_id_fails_before_decrypting()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext, _key, "ds-other");

        Assert.Equal(EnvelopeErrorCodes.DatasetMismatch, result.ErrorCode);
        Assert.Contains("ds-other", result.Reason, StringComparison.Ordinal);
        Assert.Empty(written);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(5000)]
    public async Task Decrypt_with_trailing_data_after_a_full_final_chunk_fails_with_trailing_data(int garbage)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(2 * Chunk), _key);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(Envelopes.Concat(ciphertext, new byte[garbage]), _key);

        Assert.Equal(EnvelopeErrorCodes.TrailingData, result.ErrorCode);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5000)]
    public async Task Decrypt_with_trailing_data_after_a_short_final_chunk_fails(int garbage)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(Envelopes.Concat(ciphertext, new byte[garbage]), _key);

        Assert.False(result.Success);
        Assert.Contains(result.ErrorCode, new[] { EnvelopeErrorCodes.TrailingData, EnvelopeErrorCodes.AuthenticationFailed });
    }

    [Fact]
    public async Task Decrypt_with_trailing_data_after_an_empty_plaintext_fails()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync([], _key);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(Envelopes.Concat(ciphertext, [0]), _key);

        Assert.False(result.Success);
    }

    [Fact]
    public async Task Decrypt_with_an_empty_final_chunk_appended_fails()
    {
        // An attacker cannot forge the empty final chunk, but try re-using a real one from a file of the same key.
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(Chunk), _key);
        byte[] lastTag = ciphertext.AsSpan(ciphertext.Length - DatasetEnvelope.TagSize).ToArray();

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(Envelopes.Concat(ciphertext, lastTag), _key);

        Assert.False(result.Success);
    }

    [Fact]
    public async Task Decrypt_with_a_changed_chunk_size_in_the_header_fails()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(_plaintext, _key);
        BinaryPrimitives.WriteUInt32BigEndian(ciphertext.AsSpan(10), 2 * Chunk);

        (EnvelopeDecryptResult result, byte[] written) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.AuthenticationFailed, result.ErrorCode);
        Assert.Empty(written);
    }

    [Fact]
    public async Task Reasons_never_contain_key_bytes_or_plaintext()
    {
        byte[] plaintext = "secret-row,alice,42\n"u8.ToArray();
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(plaintext, _key);
        ciphertext[^1] ^= 1;

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.DoesNotContain("secret-row", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(_key), result.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(_key), result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", result.Reason, StringComparison.Ordinal);
    }
}

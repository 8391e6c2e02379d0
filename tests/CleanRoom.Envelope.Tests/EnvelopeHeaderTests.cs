using System.Buffers.Binary;

namespace CleanRoom.Envelope.Tests;

public sealed class EnvelopeHeaderTests
{
    private readonly byte[] _key = Envelopes.NewKey();

    [Theory]
    [InlineData(0u)]
    [InlineData(4095u)]
    [InlineData((16u * 1024 * 1024) + 1)]
    [InlineData(1u << 30)]
    [InlineData(uint.MaxValue)]
    public async Task Decrypt_with_a_hostile_chunk_size_in_the_header_fails_with_bad_header(uint chunkSize)
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        BinaryPrimitives.WriteUInt32BigEndian(ciphertext.AsSpan(10), chunkSize);

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.BadHeader, result.ErrorCode);
        Assert.Contains(chunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decrypt_of_a_header_whose_dataset_id_hides_a_bidirectional_override_fails_with_bad_header()
    {
        // The dataset id is shown in reasons before the header is authenticated: "abc" becomes U+202E (also three UTF-8 bytes).
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key, Envelopes.Options(datasetId: "abc"));
        int at = ciphertext.AsSpan(0, 64).IndexOf("abc"u8);
        Assert.True(at > 0);
        "\u202E"u8.CopyTo(ciphertext.AsSpan(at));

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key, datasetId: "abc");

        Assert.Equal(EnvelopeErrorCodes.BadHeader, result.ErrorCode);
        Assert.DoesNotContain("\u202E", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decrypt_of_a_stream_without_the_magic_fails_with_bad_magic()
    {
        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync("id,name\n1,alice\n"u8.ToArray(), _key);

        Assert.Equal(EnvelopeErrorCodes.BadMagic, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_of_an_empty_stream_fails_with_truncated()
    {
        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync([], _key);

        Assert.Equal(EnvelopeErrorCodes.Truncated, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_of_an_unknown_version_fails_with_unsupported_version()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        ciphertext[8] = 2;

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.UnsupportedVersion, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_of_an_unknown_algorithm_fails_with_unsupported_algorithm()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        ciphertext[9] = 7;

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.UnsupportedAlgorithm, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_of_a_zero_length_dataset_id_fails_with_bad_header()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        ciphertext[53] = 0;

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.BadHeader, result.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_of_a_dataset_id_that_is_not_utf8_fails_with_bad_header()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        ciphertext[54] = 0xFF;

        (EnvelopeDecryptResult result, _) = await Envelopes.DecryptAsync(ciphertext, _key);

        Assert.Equal(EnvelopeErrorCodes.BadHeader, result.ErrorCode);
    }

    [Fact]
    public async Task TryReadHeader_leaves_the_stream_at_the_first_chunk()
    {
        (byte[] ciphertext, _) = await Envelopes.EncryptAsync(Envelopes.Plaintext(100), _key);
        using var input = new MemoryStream(ciphertext);

        Assert.True(DatasetEnvelope.TryReadHeader(input, out EnvelopeHeader? header, out string? error), error);

        Assert.Equal(54 + 1 + Envelopes.DatasetId.Length + "text/csv".Length, header.Length);
        Assert.Equal(header.Length, input.Position);
    }

    [Fact]
    public void TryReadHeader_of_garbage_returns_false_with_a_code_and_reason()
    {
        using var input = new MemoryStream(new byte[100]);

        Assert.False(DatasetEnvelope.TryReadHeader(input, out EnvelopeHeader? header, out string? code, out string? reason));

        Assert.Null(header);
        Assert.Equal(EnvelopeErrorCodes.BadMagic, code);
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }
}

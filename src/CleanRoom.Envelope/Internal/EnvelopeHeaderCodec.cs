using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.Envelope.Internal;

/// <summary>
/// Writes and reads the version 1 header. Reading is incremental (<see cref="Examine"/>) so the
/// sync and async readers share one parser and never read past the header, and so a hostile
/// header is refused before anything sized by it is allocated.
/// </summary>
internal static class EnvelopeHeaderCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static EnvelopeHeader Create(EnvelopeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChunkSize is < DatasetEnvelope.MinChunkSize or > DatasetEnvelope.MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ChunkSize,
                $"ChunkSize must be from {DatasetEnvelope.MinChunkSize} to {DatasetEnvelope.MaxChunkSize} bytes.");
        }

        byte[] datasetId = EncodeField(options.DatasetId, nameof(options.DatasetId));
        byte[] contentType = EncodeField(options.ContentType, nameof(options.ContentType));

        var bytes = new byte[EnvelopeLayout.FixedSize + datasetId.Length + 1 + contentType.Length];
        Span<byte> span = bytes;
        EnvelopeLayout.Magic.CopyTo(span);
        span[EnvelopeLayout.VersionOffset] = DatasetEnvelope.FormatVersion;
        span[EnvelopeLayout.AlgorithmOffset] = DatasetEnvelope.AlgorithmAes256GcmHkdfSha256;
        BinaryPrimitives.WriteUInt32BigEndian(span[EnvelopeLayout.ChunkSizeOffset..], (uint)options.ChunkSize);
        RandomNumberGenerator.Fill(span.Slice(EnvelopeLayout.SaltOffset, EnvelopeLayout.SaltSize));
        RandomNumberGenerator.Fill(span.Slice(EnvelopeLayout.NoncePrefixOffset, EnvelopeLayout.NoncePrefixSize));
        span[EnvelopeLayout.DatasetIdLengthOffset] = (byte)datasetId.Length;
        datasetId.CopyTo(span[EnvelopeLayout.FixedSize..]);
        int contentTypeLengthOffset = EnvelopeLayout.FixedSize + datasetId.Length;
        span[contentTypeLengthOffset] = (byte)contentType.Length;
        contentType.CopyTo(span[(contentTypeLengthOffset + 1)..]);

        return new EnvelopeHeader(bytes, options.ChunkSize, options.DatasetId, options.ContentType);
    }

    /// <summary>
    /// Examines the header bytes read so far. <paramref name="endOfStream"/> says no more bytes
    /// will come, which turns "need more" into a refusal.
    /// </summary>
    public static HeaderScan Examine(ReadOnlySpan<byte> available, bool endOfStream)
    {
        ReadOnlySpan<byte> magic = EnvelopeLayout.Magic;
        int magicBytes = Math.Min(available.Length, EnvelopeLayout.MagicSize);
        if (!available[..magicBytes].SequenceEqual(magic[..magicBytes]))
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.BadMagic, "Refused the envelope: it does not start with the CleanRoom envelope magic bytes.");
        }

        if (available.Length > EnvelopeLayout.VersionOffset && available[EnvelopeLayout.VersionOffset] != DatasetEnvelope.FormatVersion)
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.UnsupportedVersion,
                $"Refused the envelope: format version {available[EnvelopeLayout.VersionOffset]} is not supported (this build reads version {DatasetEnvelope.FormatVersion}).");
        }

        if (available.Length > EnvelopeLayout.AlgorithmOffset && available[EnvelopeLayout.AlgorithmOffset] != DatasetEnvelope.AlgorithmAes256GcmHkdfSha256)
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.UnsupportedAlgorithm,
                $"Refused the envelope: algorithm id {available[EnvelopeLayout.AlgorithmOffset]} is not supported (this build reads {DatasetEnvelope.AlgorithmAes256GcmHkdfSha256}, AES-256-GCM with HKDF-SHA256).");
        }

        if (available.Length >= EnvelopeLayout.ChunkSizeOffset + 4)
        {
            uint chunkSize = BinaryPrimitives.ReadUInt32BigEndian(available[EnvelopeLayout.ChunkSizeOffset..]);
            if (chunkSize is < DatasetEnvelope.MinChunkSize or > DatasetEnvelope.MaxChunkSize)
            {
                return HeaderScan.Fail(EnvelopeErrorCodes.BadHeader,
                    $"Refused the envelope header: chunk size {chunkSize} is outside {DatasetEnvelope.MinChunkSize}..{DatasetEnvelope.MaxChunkSize} bytes.");
            }
        }

        if (available.Length < EnvelopeLayout.FixedSize)
        {
            return NeedOrTruncated(EnvelopeLayout.FixedSize, endOfStream);
        }

        int datasetIdLength = available[EnvelopeLayout.DatasetIdLengthOffset];
        if (datasetIdLength == 0)
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.BadHeader, "Refused the envelope header: the dataset id is empty.");
        }

        int contentTypeLengthOffset = EnvelopeLayout.FixedSize + datasetIdLength;
        if (available.Length <= contentTypeLengthOffset)
        {
            return NeedOrTruncated(contentTypeLengthOffset + 1, endOfStream);
        }

        int contentTypeLength = available[contentTypeLengthOffset];
        if (contentTypeLength == 0)
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.BadHeader, "Refused the envelope header: the content type is empty.");
        }

        int total = contentTypeLengthOffset + 1 + contentTypeLength;
        if (available.Length < total)
        {
            return NeedOrTruncated(total, endOfStream);
        }

        if (!TryDecodeField(available.Slice(EnvelopeLayout.FixedSize, datasetIdLength), out string? datasetId))
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.BadHeader, "Refused the envelope header: the dataset id is not valid UTF-8 text without control or invisible formatting characters.");
        }

        if (!TryDecodeField(available.Slice(contentTypeLengthOffset + 1, contentTypeLength), out string? contentType))
        {
            return HeaderScan.Fail(EnvelopeErrorCodes.BadHeader, "Refused the envelope header: the content type is not valid UTF-8 text without control or invisible formatting characters.");
        }

        int chunk = (int)BinaryPrimitives.ReadUInt32BigEndian(available[EnvelopeLayout.ChunkSizeOffset..]);
        return HeaderScan.Done(new EnvelopeHeader(available[..total].ToArray(), chunk, datasetId, contentType));
    }

    /// <summary>Reads exactly the header from <paramref name="source"/>, never a byte more.</summary>
    public static async ValueTask<HeaderScan> ReadAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = new byte[EnvelopeLayout.MaxHeaderSize];
        int have = 0;
        while (true)
        {
            HeaderScan scan = Examine(buffer.AsSpan(0, have), endOfStream: false);
            if (scan.Error is not null || scan.Header is not null)
            {
                return scan;
            }

            int want = scan.Required - have;
            int read = await source.ReadAtLeastAsync(buffer.AsMemory(have, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            have += read;
            if (read < want)
            {
                return Examine(buffer.AsSpan(0, have), endOfStream: true);
            }
        }
    }

    /// <summary>Synchronous twin of <see cref="ReadAsync"/>.</summary>
    public static HeaderScan Read(Stream source)
    {
        var buffer = new byte[EnvelopeLayout.MaxHeaderSize];
        int have = 0;
        while (true)
        {
            HeaderScan scan = Examine(buffer.AsSpan(0, have), endOfStream: false);
            if (scan.Error is not null || scan.Header is not null)
            {
                return scan;
            }

            int want = scan.Required - have;
            int read = source.ReadAtLeast(buffer.AsSpan(have, want), want, throwOnEndOfStream: false);
            have += read;
            if (read < want)
            {
                return Examine(buffer.AsSpan(0, have), endOfStream: true);
            }
        }
    }

    private static HeaderScan NeedOrTruncated(int total, bool endOfStream) =>
        endOfStream
            ? HeaderScan.Fail(EnvelopeErrorCodes.Truncated, "Refused the envelope: the stream ends inside the header.")
            : HeaderScan.Need(total);

    private static byte[] EncodeField(string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"{name} must not be empty.", name);
        }

        if (value.Any(IsHidden))
        {
            throw new ArgumentException($"{name} must not contain control or invisible formatting characters.", name);
        }

        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"{name} must be valid Unicode text.", name);
        }

        if (bytes.Length > EnvelopeLayout.MaxStringBytes)
        {
            throw new ArgumentException($"{name} must be at most {EnvelopeLayout.MaxStringBytes} UTF-8 bytes.", name);
        }

        return bytes;
    }

    private static bool TryDecodeField(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        try
        {
            value = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            value = null;
            return false;
        }

        if (value.Any(IsHidden))
        {
            value = null;
            return false;
        }

        return true;
    }

    /// <summary>
    /// A control character or an invisible formatting one (a bidirectional override such as U+202E, a zero-width space): the
    /// header's strings are shown in reasons before the header is authenticated, so none may change how text around it reads.
    /// </summary>
    private static bool IsHidden(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}

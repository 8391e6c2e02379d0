using System.Buffers;

namespace CleanRoom.Envelope.Internal;

/// <summary>
/// Reads and authenticates the chunks that follow a header, one at a time, in constant memory.
/// The single reading loop behind <see cref="DatasetEnvelope.DecryptAsync"/> and
/// <see cref="EnvelopeReadStream"/>.
/// </summary>
/// <remarks>
/// A chunk is final exactly when the stream ends within chunkSize + 16 bytes of its start. To know
/// that without seeking, every read asks for one byte more than a full chunk; when it arrives the
/// chunk is not final and the extra byte is carried to the front of the next read. The last-chunk
/// flag in the nonce then makes a cut at a chunk boundary or appended bytes fail authentication.
/// </remarks>
internal sealed class ChunkDecryptor : IDisposable
{
    private readonly ChunkCipher _cipher;
    private readonly int _chunkSize;
    private readonly int _readSize;
    private byte[]? _buffer;
    private int _carried;
    private long _counter;
    private bool _finished;

    public ChunkDecryptor(ReadOnlySpan<byte> dataKey, EnvelopeHeader header)
    {
        _cipher = new ChunkCipher(dataKey, header);
        _chunkSize = header.ChunkSize;
        _readSize = header.ChunkSize + EnvelopeLayout.TagSize + 1;
        _buffer = ArrayPool<byte>.Shared.Rent(_readSize);
    }

    /// <summary>
    /// Where the next chunk's bytes go: read into it as many bytes as it holds, or up to end of
    /// stream, then call <see cref="Open"/>. (Callers await the read themselves so that no
    /// per-chunk async state machine is created here.)
    /// </summary>
    public Memory<byte> PendingRead => Buffer.AsMemory(_carried, _readSize - _carried);

    /// <summary>Synchronous read of the next chunk into <paramref name="plaintext"/> (at least the chunk size long).</summary>
    public ChunkStep Read(Stream source, Span<byte> plaintext)
    {
        Span<byte> target = PendingRead.Span;
        return Open(source.ReadAtLeast(target, target.Length, throwOnEndOfStream: false), plaintext);
    }

    /// <summary>
    /// Authenticates the chunk whose remaining <paramref name="read"/> bytes were just read into
    /// <see cref="PendingRead"/>, and writes its plaintext to <paramref name="plaintext"/>.
    /// </summary>
    public ChunkStep Open(int read, Span<byte> plaintext)
    {
        _ = Buffer;
        ArgumentOutOfRangeException.ThrowIfNegative(read);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(read, _readSize - _carried);
        ArgumentOutOfRangeException.ThrowIfLessThan(plaintext.Length, _chunkSize, nameof(plaintext));
        return OpenCore(_carried + read, plaintext);
    }

    public void Dispose()
    {
        _cipher.Dispose();
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] Buffer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_buffer is null, this);
            if (_finished)
            {
                throw new InvalidOperationException("The final chunk was already read.");
            }

            return _buffer;
        }
    }

    private ChunkStep OpenCore(int available, Span<byte> plaintext)
    {
        byte[] buffer = _buffer!;
        if (_counter > uint.MaxValue)
        {
            return ChunkStep.Fail(EnvelopeErrorCodes.TooLarge, $"Refused the envelope: it holds more than {(long)uint.MaxValue + 1} chunks, the most a 32-bit chunk counter can number.");
        }

        uint counter = (uint)_counter;
        int fullChunk = _chunkSize + EnvelopeLayout.TagSize;

        if (available == _readSize)
        {
            ReadOnlySpan<byte> chunk = buffer.AsSpan(0, fullChunk);
            if (!_cipher.TryDecrypt(counter, last: false, chunk, plaintext))
            {
                // Only to name the failure precisely: a full final chunk followed by more bytes.
                return _cipher.TryDecrypt(counter, last: true, chunk, plaintext)
                    ? Refuse(EnvelopeErrorCodes.TrailingData, $"Refused the envelope: bytes follow the final chunk (chunk {counter}).", plaintext)
                    : Refuse(EnvelopeErrorCodes.AuthenticationFailed, $"Refused the envelope: chunk {counter} did not authenticate (wrong key, edited header or chunk, or chunks reordered, swapped or appended).", plaintext);
            }

            buffer[0] = buffer[_readSize - 1];
            _carried = 1;
            _counter++;
            return new ChunkStep(_chunkSize, IsFinal: false, Error: null);
        }

        if (available < EnvelopeLayout.TagSize)
        {
            return ChunkStep.Fail(EnvelopeErrorCodes.Truncated, available == 0
                ? "Refused the envelope: the stream ends after the header, with no chunk."
                : $"Refused the envelope: the stream ends inside chunk {counter}, before its 16-byte tag.");
        }

        ReadOnlySpan<byte> last = buffer.AsSpan(0, available);
        if (!_cipher.TryDecrypt(counter, last: true, last, plaintext))
        {
            // Only to name the failure precisely: a full non-final chunk followed by nothing.
            return available == fullChunk && _cipher.TryDecrypt(counter, last: false, last, plaintext)
                ? Refuse(EnvelopeErrorCodes.Truncated, $"Refused the envelope: the stream ends after chunk {counter}, which is not the final chunk.", plaintext)
                : Refuse(EnvelopeErrorCodes.AuthenticationFailed, $"Refused the envelope: final chunk {counter} did not authenticate (wrong key, edited header or chunk, truncated mid-chunk, or chunks reordered, swapped or appended).", plaintext);
        }

        _finished = true;
        return new ChunkStep(available - EnvelopeLayout.TagSize, IsFinal: true, Error: null);
    }

    private ChunkStep Refuse(string code, string reason, Span<byte> plaintext)
    {
        // A diagnostic re-try may have succeeded; the caller never sees those bytes, clear them anyway.
        plaintext[.._chunkSize].Clear();
        _finished = true;
        return ChunkStep.Fail(code, reason);
    }
}

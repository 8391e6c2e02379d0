using System.Buffers;
using System.Security.Cryptography;
using CleanRoom.Envelope.Internal;

namespace CleanRoom.Envelope;

/// <summary>
/// Read-only, forward-only plaintext view of an envelope (from <see cref="DatasetEnvelope.OpenRead"/>).
/// Holds one chunk of plaintext at a time and returns bytes of a chunk only after the whole chunk
/// authenticated. Any refusal throws <see cref="EnvelopeAuthenticationException"/>, and keeps
/// throwing it on every later read; a read returns 0 only after the final chunk authenticated.
/// </summary>
/// <remarks>Not thread-safe, like other streams. Callers must still treat everything read as void if a later read throws.</remarks>
public sealed class EnvelopeReadStream : Stream
{
    private readonly Stream _inner;
    private readonly string _expectedDatasetId;
    private readonly bool _leaveOpen;
    private byte[]? _dataKey;
    private EnvelopeHeader? _header;
    private ChunkDecryptor? _decryptor;
    private byte[]? _plaintext;
    private int _offset;
    private int _length;
    private bool _finalRead;
    private EnvelopeError? _failure;
    private bool _disposed;
    private long _position;

    internal EnvelopeReadStream(Stream inner, ReadOnlySpan<byte> dataKey, string expectedDatasetId, bool leaveOpen)
    {
        _inner = inner;
        _dataKey = dataKey.ToArray();
        _expectedDatasetId = expectedDatasetId;
        _leaveOpen = leaveOpen;
    }

    /// <summary>The header, once read (after <see cref="ReadHeaderAsync"/> or the first read); authenticated only once the final chunk has been read.</summary>
    public EnvelopeHeader? Header => _header;

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException("An envelope read stream does not know its length in advance.");

    /// <summary>Plaintext bytes returned so far. Setting it is not supported.</summary>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException("An envelope read stream cannot seek.");
    }

    /// <summary>Reads and checks the header (magic, version, bounds, dataset id) without reading a chunk.</summary>
    /// <exception cref="EnvelopeAuthenticationException">The header is refused.</exception>
    public async ValueTask<EnvelopeHeader> ReadHeaderAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        if (_header is null)
        {
            Accept(await EnvelopeHeaderCodec.ReadAsync(_inner, cancellationToken).ConfigureAwait(false));
        }

        return _header!;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        ThrowIfUnusable();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_header is null)
        {
            Accept(EnvelopeHeaderCodec.Read(_inner));
        }

        if (_offset == _length && !_finalRead)
        {
            Advance(_decryptor!.Read(_inner, _plaintext));
        }

        return CopyOut(buffer);
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfUnusable();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_header is null)
        {
            Accept(await EnvelopeHeaderCodec.ReadAsync(_inner, cancellationToken).ConfigureAwait(false));
        }

        if (_offset == _length && !_finalRead)
        {
            Memory<byte> pending = _decryptor!.PendingRead;
            int read = await _inner.ReadAtLeastAsync(pending, pending.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            Advance(_decryptor.Open(read, _plaintext));
        }

        return CopyOut(buffer.Span);
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override int ReadByte()
    {
        // The base implementation allocates a one-byte array per call.
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An envelope read stream cannot seek.");

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("An envelope read stream is read-only.");

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("An envelope read stream is read-only.");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            ZeroKey();
            _decryptor?.Dispose();
            _decryptor = null;
            if (_plaintext is { } plaintext)
            {
                _plaintext = null;
                CryptographicOperations.ZeroMemory(plaintext);
                ArrayPool<byte>.Shared.Return(plaintext);
            }

            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Accept(HeaderScan scan)
    {
        if (DatasetEnvelope.CheckHeader(scan, _expectedDatasetId) is { } error)
        {
            Fail(error);
        }

        _header = scan.Header!;
        _decryptor = new ChunkDecryptor(_dataKey ?? throw new ObjectDisposedException(nameof(EnvelopeReadStream)), _header);
        ZeroKey();
        _plaintext = ArrayPool<byte>.Shared.Rent(_header.ChunkSize);
    }

    private void Advance(ChunkStep step)
    {
        if (step.Error is { } error)
        {
            Fail(error);
        }

        _offset = 0;
        _length = step.PlaintextLength;
        _finalRead = step.IsFinal;
    }

    private int CopyOut(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _length - _offset);
        _plaintext.AsSpan(_offset, count).CopyTo(destination);
        _offset += count;
        _position += count;
        return count;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(EnvelopeError error)
    {
        _failure = error;
        _offset = _length = 0;
        ZeroKey();
        throw error.ToException();
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is { } failure)
        {
            throw failure.ToException();
        }
    }

    private void ZeroKey()
    {
        if (_dataKey is { } key)
        {
            _dataKey = null;
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

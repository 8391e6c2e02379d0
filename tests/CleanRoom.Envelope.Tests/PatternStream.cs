namespace CleanRoom.Envelope.Tests;

/// <summary>A non-seekable source of <c>length</c> bytes cycling through a fixed pattern; allocates nothing per read.</summary>
internal sealed class PatternStream(long length) : Stream
{
    private static readonly byte[] Pattern = Envelopes.Plaintext(4099, seed: 7);
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Min(buffer.Length, length - _position);
        for (int done = 0; done < count;)
        {
            int start = (int)((_position + done) % Pattern.Length);
            int n = Math.Min(count - done, Pattern.Length - start);
            Pattern.AsSpan(start, n).CopyTo(buffer[done..]);
            done += n;
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

namespace CleanRoom.Envelope.Internal;

/// <summary>
/// Result of examining a header prefix: either more bytes are needed (<see cref="Required"/> is the
/// total header length known so far), or the header is complete, or it is refused.
/// </summary>
internal readonly record struct HeaderScan(int Required, EnvelopeHeader? Header, EnvelopeError? Error)
{
    public static HeaderScan Need(int total) => new(total, null, null);

    public static HeaderScan Done(EnvelopeHeader header) => new(header.Length, header, null);

    public static HeaderScan Fail(string code, string reason) => new(0, null, new EnvelopeError(code, reason));
}

namespace CleanRoom.Envelope.Internal;

/// <summary>A refusal: stable code and one-line reason.</summary>
internal readonly record struct EnvelopeError(string Code, string Reason)
{
    public EnvelopeAuthenticationException ToException() => new(Code, Reason);
}

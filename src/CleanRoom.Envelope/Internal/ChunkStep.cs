namespace CleanRoom.Envelope.Internal;

/// <summary>One chunk read by <see cref="ChunkDecryptor"/>: its authenticated plaintext length, or a refusal.</summary>
internal readonly record struct ChunkStep(int PlaintextLength, bool IsFinal, EnvelopeError? Error)
{
    public static ChunkStep Fail(string code, string reason) => new(0, false, new EnvelopeError(code, reason));
}

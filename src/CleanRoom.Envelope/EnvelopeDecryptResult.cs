using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Envelope;

/// <summary>
/// Outcome of <see cref="DatasetEnvelope.DecryptAsync"/>. Fails closed: <see cref="Success"/> is
/// true only when every chunk, including the final one, authenticated and nothing followed it.
/// </summary>
/// <remarks>
/// Chunks are written as soon as each one authenticates, so on failure the output already holds
/// <see cref="PlaintextLength"/> bytes of authentic but incomplete plaintext. Callers must discard
/// the output unless <see cref="Success"/> is true.
/// </remarks>
public sealed record EnvelopeDecryptResult
{
    private EnvelopeDecryptResult()
    {
    }

    /// <summary>True when the whole envelope decrypted.</summary>
    [MemberNotNullWhen(true, nameof(Header))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool Success { get; private init; }

    /// <summary>An <see cref="EnvelopeErrorCodes"/> value when decryption failed.</summary>
    public string? ErrorCode { get; private init; }

    /// <summary>One line naming what was refused and why; never key bytes or plaintext.</summary>
    public string? Reason { get; private init; }

    /// <summary>Plaintext bytes written to the output (on failure: written before the failure, to be discarded).</summary>
    public long PlaintextLength { get; private init; }

    /// <summary>The header that was read, when it parsed; authenticated only when <see cref="Success"/>.</summary>
    public EnvelopeHeader? Header { get; private init; }

    internal static EnvelopeDecryptResult Succeeded(EnvelopeHeader header, long plaintextLength) =>
        new() { Success = true, Header = header, PlaintextLength = plaintextLength };

    internal static EnvelopeDecryptResult Failed(string errorCode, string reason, EnvelopeHeader? header, long plaintextLength) =>
        new() { Success = false, ErrorCode = errorCode, Reason = reason, Header = header, PlaintextLength = plaintextLength };
}

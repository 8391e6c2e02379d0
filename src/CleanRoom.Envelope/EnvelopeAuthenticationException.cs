namespace CleanRoom.Envelope;

/// <summary>
/// Thrown by <see cref="EnvelopeReadStream"/> when the envelope is refused (tampered, truncated,
/// wrong key, wrong dataset, malformed header). It derives from <see cref="IOException"/> (<c>InvalidDataException</c>, which
/// <c>DeflateStream</c> throws on corrupt input, is sealed),
/// so stream consumers treat it as a failed read.
/// </summary>
public sealed class EnvelopeAuthenticationException : IOException
{
    /// <summary>Creates the exception with a stable code and a one-line reason.</summary>
    public EnvelopeAuthenticationException(string errorCode, string reason)
        : base(reason)
    {
        ErrorCode = errorCode;
    }

    /// <summary>An <see cref="EnvelopeErrorCodes"/> value.</summary>
    public string ErrorCode { get; }
}

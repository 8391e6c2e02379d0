namespace CleanRoom.Envelope;

/// <summary>
/// Stable error codes of the dataset envelope. They are part of the public surface (logs, audit
/// entries, CLI exit messages): never rename one, only add.
/// </summary>
public static class EnvelopeErrorCodes
{
    /// <summary>The stream does not start with the envelope magic bytes.</summary>
    public const string BadMagic = "envelope.bad_magic";

    /// <summary>The header names a format version this build does not read.</summary>
    public const string UnsupportedVersion = "envelope.unsupported_version";

    /// <summary>The header names an algorithm suite this build does not read.</summary>
    public const string UnsupportedAlgorithm = "envelope.unsupported_algorithm";

    /// <summary>A header field is out of its documented bounds (chunk size, string lengths, UTF-8).</summary>
    public const string BadHeader = "envelope.bad_header";

    /// <summary>The header's dataset id is not the one the caller expected.</summary>
    public const string DatasetMismatch = "envelope.dataset_mismatch";

    /// <summary>A chunk did not authenticate: wrong key, edited header or chunk, reordered or foreign chunk.</summary>
    public const string AuthenticationFailed = "envelope.authentication_failed";

    /// <summary>The stream ends before the final chunk (or inside the header).</summary>
    public const string Truncated = "envelope.truncated";

    /// <summary>Bytes follow the authenticated final chunk.</summary>
    public const string TrailingData = "envelope.trailing_data";

    /// <summary>The stream holds more chunks than the 32-bit chunk counter can number.</summary>
    public const string TooLarge = "envelope.too_large";
}

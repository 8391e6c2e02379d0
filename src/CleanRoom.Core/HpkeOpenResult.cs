namespace CleanRoom.Core;

/// <summary>
/// The outcome of <see cref="Hpke.Open(NSec.Cryptography.Key, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>:
/// fails closed — <see cref="IsSuccess"/> is true only with a plaintext.
/// </summary>
public sealed record HpkeOpenResult
{
    private HpkeOpenResult(byte[]? plaintext, string? errorCode, string? reason)
    {
        Plaintext = plaintext;
        ErrorCode = errorCode;
        Reason = reason;
    }

    public byte[]? Plaintext { get; }

    /// <summary>"hpke.bad_enc" (malformed or low-order encapsulated key) or "hpke.open_failed" (wrong key, info, aad or tampered ciphertext).</summary>
    public string? ErrorCode { get; }

    public string? Reason { get; }

    public bool IsSuccess => Plaintext is not null && ErrorCode is null;

    internal static HpkeOpenResult Success(byte[] plaintext) => new(plaintext, null, null);

    internal static HpkeOpenResult Failure(string errorCode, string reason) => new(null, errorCode, reason);
}

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace CleanRoom.KeyRelease;

/// <summary>
/// Outcome of <see cref="KeyHsmEnvelope.TryOpen"/>. On success it owns the released key bytes;
/// dispose it to zero them. Wrong key and tampered ciphertext give the same error code, so the
/// result is no padding oracle.
/// </summary>
public sealed class KeyUnwrapResult : IDisposable
{
    private byte[]? _key;

    private KeyUnwrapResult(byte[]? key, string? kid, KeyWrapAlgorithm algorithm, string? errorCode, string? reason)
    {
        _key = key;
        Kid = kid;
        Algorithm = algorithm;
        ErrorCode = errorCode;
        Reason = reason;
    }

    /// <summary>True when the envelope opened; the key bytes are in <see cref="Key"/>.</summary>
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsSuccess => ErrorCode is null;

    /// <summary>The unwrapped target key (for an RSA key: its PKCS#8 private key DER). Throws after dispose or on failure.</summary>
    public ReadOnlySpan<byte> Key => _key ?? throw new InvalidOperationException("No key: the unwrap failed or the result was disposed.");

    /// <summary>The <c>header.kid</c> of the envelope (the released key's identifier).</summary>
    public string? Kid { get; }

    /// <summary>The <c>header.enc</c> of the envelope.</summary>
    public KeyWrapAlgorithm Algorithm { get; }

    /// <summary>A <see cref="KeyReleaseErrorCodes"/> value when the envelope did not open.</summary>
    public string? ErrorCode { get; }

    /// <summary>One line saying why, without key material.</summary>
    public string? Reason { get; }

    /// <summary>Zeroes the key bytes.</summary>
    public void Dispose()
    {
        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
            _key = null;
        }
    }

    internal static KeyUnwrapResult Success(byte[] key, string kid, KeyWrapAlgorithm algorithm) => new(key, kid, algorithm, null, null);

    internal static KeyUnwrapResult Failure(string errorCode, string reason) => new(null, null, KeyWrapAlgorithm.None, errorCode, reason);
}

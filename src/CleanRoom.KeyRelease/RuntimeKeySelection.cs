using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace CleanRoom.KeyRelease;

/// <summary>Outcome of <see cref="RuntimeKeySelector.Select"/>; owns the RSA public key, so dispose it.</summary>
public sealed class RuntimeKeySelection : IDisposable
{
    private RuntimeKeySelection(RSA? key, string? kid, string? errorCode, string? reason)
    {
        Key = key;
        Kid = kid;
        ErrorCode = errorCode;
        Reason = reason;
    }

    /// <summary>The wrapping public key when <see cref="IsSuccess"/>.</summary>
    public RSA? Key { get; }

    /// <summary>The JWK <c>kid</c> of the selected key, if it had one.</summary>
    public string? Kid { get; }

    /// <summary>True only when a key was selected.</summary>
    [MemberNotNullWhen(true, nameof(Key))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsSuccess => Key is not null;

    /// <summary>A <see cref="KeyReleaseErrorCodes"/> value on failure.</summary>
    public string? ErrorCode { get; }

    /// <summary>One line saying why no key was selected.</summary>
    public string? Reason { get; }

    /// <summary>Nothing to release: the key belongs to <see cref="RuntimeKeySelector"/>'s cache of imported keys.</summary>
    public void Dispose()
    {
    }

    /// <summary>A key owned by the selector's cache: this selection does not dispose it.</summary>
    internal static RuntimeKeySelection Shared(RSA key, string? kid) => new(key, kid, null, null);

    internal static RuntimeKeySelection Failure(string errorCode, string reason) => new(null, null, errorCode, reason);
}

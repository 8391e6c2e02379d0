using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.KeyRelease;

/// <summary>
/// A value or a typed refusal. Fails closed: <see cref="IsSuccess"/> is true only when a value
/// was produced. <see cref="Reason"/> is one line without secrets, tokens or key material.
/// </summary>
public sealed class KeyReleaseResult<T>
    where T : class
{
    private KeyReleaseResult(T? value, string? errorCode, string? reason)
    {
        Value = value;
        ErrorCode = errorCode;
        Reason = reason;
    }

    /// <summary>The value when <see cref="IsSuccess"/>.</summary>
    public T? Value { get; }

    /// <summary>True only when <see cref="Value"/> is set.</summary>
    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsSuccess => Value is not null;

    /// <summary>A <see cref="KeyReleaseErrorCodes"/> value on failure.</summary>
    public string? ErrorCode { get; }

    /// <summary>One line saying what was refused and why.</summary>
    public string? Reason { get; }

    internal static KeyReleaseResult<T> Success(T value) => new(value, null, null);

    internal static KeyReleaseResult<T> Failure(string errorCode, string reason) => new(null, errorCode, reason);
}

namespace CleanRoom.KeyRelease;

/// <summary>
/// Outcome of <see cref="ReleasePolicy.Evaluate"/>: allowed, or denied with the first unmet
/// condition named by its claim path and operator (never by a value taken from the token).
/// </summary>
public sealed class ReleaseDecision
{
    private ReleaseDecision(bool isAllowed, string? errorCode, string? reason, string? unmetClaim, string? unmetOperator)
    {
        IsAllowed = isAllowed;
        ErrorCode = errorCode;
        Reason = reason;
        UnmetClaim = unmetClaim;
        UnmetOperator = unmetOperator;
    }

    /// <summary>True only when an authority matching the token issuer had all its conditions met.</summary>
    public bool IsAllowed { get; }

    /// <summary>A <see cref="KeyReleaseErrorCodes"/> value when denied.</summary>
    public string? ErrorCode { get; }

    /// <summary>One line saying why the release was denied.</summary>
    public string? Reason { get; }

    /// <summary>The policy's claim path of the first unmet condition, if a condition was the cause.</summary>
    public string? UnmetClaim { get; }

    /// <summary>The operator of the first unmet condition (<c>equals</c>, <c>exists</c>, …).</summary>
    public string? UnmetOperator { get; }

    internal static ReleaseDecision Allowed() => new(true, null, null, null, null);

    internal static ReleaseDecision Denied(string errorCode, string reason) => new(false, errorCode, reason, null, null);

    internal static ReleaseDecision ConditionNotMet(string claim, string op) =>
        new(false, KeyReleaseErrorCodes.PolicyConditionNotMet,
            $"Release denied: claim '{claim}' did not satisfy '{op}'.", claim, op);
}

using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.KeyRelease;

/// <summary>Outcome of <see cref="ReleasePolicy.Parse"/>. Fails closed: no policy means no release.</summary>
public sealed class ReleasePolicyParseResult
{
    private ReleasePolicyParseResult(ReleasePolicy? policy, string? errorCode, string? reason)
    {
        Policy = policy;
        ErrorCode = errorCode;
        Reason = reason;
    }

    /// <summary>The parsed policy when <see cref="IsSuccess"/>.</summary>
    public ReleasePolicy? Policy { get; }

    /// <summary>True only when a policy was parsed.</summary>
    [MemberNotNullWhen(true, nameof(Policy))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsSuccess => Policy is not null;

    /// <summary>A <see cref="KeyReleaseErrorCodes"/> value when parsing failed.</summary>
    public string? ErrorCode { get; }

    /// <summary>One line saying what was wrong, for the policy author.</summary>
    public string? Reason { get; }

    internal static ReleasePolicyParseResult Success(ReleasePolicy policy) => new(policy, null, null);

    internal static ReleasePolicyParseResult Malformed(string reason) =>
        new(null, KeyReleaseErrorCodes.PolicyMalformed, "Release policy is malformed: " + reason);
}

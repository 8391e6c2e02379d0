using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>Outcome of <see cref="MaaPolicy.Parse"/>; a failed parse carries "line:column: reason".</summary>
public sealed class MaaPolicyParseResult
{
    public const string MalformedErrorCode = "maa_policy.malformed";

    private MaaPolicyParseResult(MaaPolicy? policy, string? reason)
    {
        Policy = policy;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Policy))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsValid => Policy is not null;

    public MaaPolicy? Policy { get; }

    public string? ErrorCode => IsValid ? null : MalformedErrorCode;

    public string? Reason { get; }

    internal static MaaPolicyParseResult Success(MaaPolicy policy) => new(policy, null);

    internal static MaaPolicyParseResult Failure(string reason) => new(null, reason);

    public override string ToString() => IsValid ? "valid MAA policy" : $"{ErrorCode}: {Reason}";
}

using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>Outcome of evaluating an <see cref="AttestationPolicy"/>. Fails closed.</summary>
public sealed class PolicyEvaluationResult
{
    private PolicyEvaluationResult(string? errorCode, string? reason)
    {
        ErrorCode = errorCode;
        Reason = reason;
    }

    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsAllowed => ErrorCode is null;

    public string? ErrorCode { get; }

    public string? Reason { get; }

    internal static PolicyEvaluationResult Allowed { get; } = new(null, null);

    internal static PolicyEvaluationResult Denied(string errorCode, string reason) => new(errorCode, reason);

    public override string ToString() => IsAllowed ? "allowed" : $"{ErrorCode}: {Reason}";
}

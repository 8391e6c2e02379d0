using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>
/// Outcome of <see cref="AttestationPolicy.Parse"/>. A policy that could not be parsed refuses
/// everything: <see cref="Evaluate"/> on a failed result always denies.
/// </summary>
public sealed class AttestationPolicyParseResult
{
    private AttestationPolicyParseResult(AttestationPolicy? policy, string? errorCode, string? reason)
    {
        Policy = policy;
        ErrorCode = errorCode;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Policy))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsValid => Policy is not null;

    public AttestationPolicy? Policy { get; }

    public string? ErrorCode { get; }

    public string? Reason { get; }

    /// <summary>Evaluates the policy, or denies when it could not be parsed.</summary>
    public PolicyEvaluationResult Evaluate(SnpVerificationResult evidence, ReadOnlySpan<byte> runtimeDataSha256) =>
        IsValid
            ? Policy.Evaluate(evidence, runtimeDataSha256)
            : PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.Malformed, $"the attestation policy is unusable ({Reason})");

    internal static AttestationPolicyParseResult Success(AttestationPolicy policy) => new(policy, null, null);

    internal static AttestationPolicyParseResult Failure(string reason) => new(null, AttestationPolicyErrorCodes.Malformed, reason);

    public override string ToString() => IsValid ? $"policy '{Policy.Name}'" : $"{ErrorCode}: {Reason}";
}

using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace CleanRoom.Attestation;

/// <summary>Outcome of <see cref="MaaPolicy.Evaluate"/>: permit with the issued claims, or deny with a reason.</summary>
public sealed class MaaPolicyEvaluationResult
{
    public const string DeniedErrorCode = "maa_policy.denied";

    private MaaPolicyEvaluationResult(bool permitted, string? reason, IReadOnlyList<KeyValuePair<string, JsonElement>> issued)
    {
        IsPermitted = permitted;
        Reason = reason;
        IssuedClaims = issued;
    }

    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsPermitted { get; }

    public string? ErrorCode => IsPermitted ? null : DeniedErrorCode;

    public string? Reason { get; }

    /// <summary>Claims issued by matching issuance rules, in rule order.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonElement>> IssuedClaims { get; }

    internal static MaaPolicyEvaluationResult Permitted(IReadOnlyList<KeyValuePair<string, JsonElement>> issued) => new(true, null, issued);

    internal static MaaPolicyEvaluationResult Denied(string reason) => new(false, reason, []);

    public override string ToString() => IsPermitted ? $"permitted, {IssuedClaims.Count} claim(s) issued" : $"{ErrorCode}: {Reason}";
}

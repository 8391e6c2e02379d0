using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>Outcome of <see cref="SnpReport.Parse"/>. Fails closed: <see cref="Report"/> is null unless parsing succeeded.</summary>
public sealed class SnpParseResult
{
    private SnpParseResult(SnpReport? report, string? errorCode, string? reason)
    {
        Report = report;
        ErrorCode = errorCode;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Report))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsValid => Report is not null;

    public SnpReport? Report { get; }

    public string? ErrorCode { get; }

    public string? Reason { get; }

    internal static SnpParseResult Success(SnpReport report) => new(report, null, null);

    internal static SnpParseResult Failure(string errorCode, string reason) => new(null, errorCode, reason);

    public override string ToString() => IsValid ? "valid SEV-SNP report" : $"{ErrorCode}: {Reason}";
}

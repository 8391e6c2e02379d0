using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>
/// Outcome of <see cref="SnpVerifier"/>. Fails closed: <see cref="IsValid"/> is true only when the
/// report parsed, its signature verified under a VCEK that chains to a pinned ARK, and the
/// VCEK's TCB and hardware ID match the report.
/// </summary>
public sealed class SnpVerificationResult
{
    private SnpVerificationResult(SnpReport? report, string? productName, bool isSimulatedRoot, string? errorCode, string? reason)
    {
        Report = report;
        ProductName = productName;
        IsSimulatedRoot = isSimulatedRoot;
        ErrorCode = errorCode;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Report), nameof(ProductName))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsValid => ErrorCode is null;

    public string? ErrorCode { get; }

    public string? Reason { get; }

    /// <summary>The verified report (with its TCB layout settled), or null on failure.</summary>
    public SnpReport? Report { get; }

    /// <summary>The VCEK's product name extension, e.g. "Milan-B0".</summary>
    public string? ProductName { get; }

    /// <summary>True when the chain ends in a simulated (locally generated) ARK.</summary>
    public bool IsSimulatedRoot { get; }

    internal static SnpVerificationResult Success(SnpReport report, string productName, bool isSimulatedRoot) =>
        new(report, productName, isSimulatedRoot, null, null);

    internal static SnpVerificationResult Failure(string errorCode, string reason) =>
        new(null, null, false, errorCode, reason);

    public override string ToString() => IsValid
        ? $"valid SEV-SNP evidence ({ProductName}{(IsSimulatedRoot ? ", SIMULATED root" : string.Empty)})"
        : $"{ErrorCode}: {Reason}";
}

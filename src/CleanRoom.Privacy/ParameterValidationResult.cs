namespace CleanRoom.Privacy;

/// <summary>The outcome of <see cref="ParameterBinder.Validate"/>; fails closed (<see cref="IsValid"/> false unless every value passed).</summary>
public sealed record ParameterValidationResult
{
    private ParameterValidationResult() { }

    public bool IsValid { get; private init; }
    /// <summary>Stable code: param.missing, param.unknown, param.type, param.out_of_domain, param.spec_invalid.</summary>
    public string? ErrorCode { get; private init; }
    /// <summary>One line naming the parameter and the rule; never echoes the refused value.</summary>
    public string? Reason { get; private init; }
    public IReadOnlyList<BoundParameter> Parameters { get; private init; } = [];

    internal static ParameterValidationResult Valid(IReadOnlyList<BoundParameter> parameters) => new() { IsValid = true, Parameters = parameters };

    internal static ParameterValidationResult Invalid(string code, string reason) => new() { ErrorCode = code, Reason = reason };
}

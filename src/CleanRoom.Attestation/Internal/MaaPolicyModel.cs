namespace CleanRoom.Attestation.Internal;

/// <summary>The syntax tree of an MAA policy (version 1.0 subset).</summary>
internal static class MaaPolicyModel
{
    public enum LiteralKind
    {
        String,
        Integer,
        Boolean,
    }

    public enum ActionKind
    {
        Permit,
        Deny,
        Issue,
    }

    public sealed record Literal(LiteralKind Kind, string? String, long Integer, bool Boolean);

    /// <summary><c>label:[type=="t", value OP literal]</c>; without Operator it only requires the claim to exist.</summary>
    public sealed record Condition(string? Label, string ClaimType, string? Operator, Literal? Value);

    /// <summary>
    /// permit() / deny() / issue(type="t", value=literal | label.value) / issue(claim=label).
    /// For issue, either <see cref="Value"/> or <see cref="ValueFromLabel"/> is set.
    /// </summary>
    public sealed record RuleAction(ActionKind Kind, string? IssueType, Literal? Value, string? ValueFromLabel, bool WholeClaim);

    public sealed record Rule(IReadOnlyList<Condition> Conditions, RuleAction Action, int Line);
}

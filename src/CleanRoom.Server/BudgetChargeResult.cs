namespace CleanRoom.Server;

/// <summary>The outcome of charging a run. Refused until <see cref="Ok"/> records the charges (fails closed).</summary>
public sealed record BudgetChargeResult
{
    public IReadOnlyList<BudgetCharge> Charges { get; private init; } = [];

    public bool IsCharged { get; private init; }

    public bool IsRefused => !IsCharged;

    public string Code { get; private init; } = BudgetLedger.Exhausted;

    public string Reason { get; private init; } = "run refused: the privacy budget was not charged";

    public static BudgetChargeResult Ok(IReadOnlyList<BudgetCharge> charges) => new() { Charges = charges, IsCharged = true, Code = string.Empty, Reason = string.Empty };

    public static BudgetChargeResult Refuse(string code, string reason) => new() { Code = code, Reason = reason };
}

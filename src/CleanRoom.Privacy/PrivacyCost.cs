namespace CleanRoom.Privacy;

/// <summary>
/// An (ε, δ) privacy cost in exact decimal arithmetic, composed by basic sequential composition (ε and δ add). The ledger
/// that persists budgets lives elsewhere; budgets are charged before a run and never refunded.
/// </summary>
public readonly record struct PrivacyCost
{
    public PrivacyCost(decimal epsilon, decimal delta)
    {
        if (epsilon < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), "ε must be non-negative.");
        }

        if (delta is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "δ must lie in [0, 1).");
        }

        Epsilon = epsilon;
        Delta = delta;
    }

    public decimal Epsilon { get; }
    public decimal Delta { get; }

    public static PrivacyCost Zero => default;

    /// <summary>Sequential composition.</summary>
    public static PrivacyCost operator +(PrivacyCost a, PrivacyCost b) => new(a.Epsilon + b.Epsilon, a.Delta + b.Delta);

    public PrivacyCost Add(PrivacyCost other) => this + other;

    /// <summary>True when spending this cost keeps the total within <paramref name="budget"/> (both ε and δ).</summary>
    public bool FitsWithin(PrivacyCost budget) => Epsilon <= budget.Epsilon && Delta <= budget.Delta;

    /// <summary>What is left of <paramref name="budget"/> after <paramref name="spent"/>; null when the budget is exceeded.</summary>
    public static PrivacyCost? Remaining(PrivacyCost budget, PrivacyCost spent) =>
        spent.FitsWithin(budget) ? new PrivacyCost(budget.Epsilon - spent.Epsilon, budget.Delta - spent.Delta) : null;

    /// <summary>Sums costs; throws on overflow rather than wrapping.</summary>
    public static PrivacyCost Compose(IEnumerable<PrivacyCost> costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        return costs.Aggregate(Zero, (total, cost) => total + cost);
    }
}

namespace CleanRoom.Privacy;

/// <summary>The DP aggregates. Each consumes one share of ε, except <see cref="Average"/> which consumes two (a sum and a count).</summary>
public enum DpAggregateKind
{
    /// <summary>COUNT(*): the per-unit value is the unit's row count in the group, clamped to [Lower, Upper] (Lower ≥ 0).</summary>
    Count,

    /// <summary>COUNT(DISTINCT unit): each unit contributes 1; the value is ignored.</summary>
    CountDistinctUnits,

    /// <summary>SUM: the per-unit value (already summed per unit and group) is clamped to [Lower, Upper].</summary>
    Sum,

    /// <summary>AVG over units: noisy sum of clamped per-unit values / noisy number of units, clamped to [Lower, Upper].</summary>
    Average,
}

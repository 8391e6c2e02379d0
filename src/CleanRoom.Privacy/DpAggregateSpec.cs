namespace CleanRoom.Privacy;

/// <summary>
/// One DP output column. Values are clamped to [<paramref name="Lower"/>, <paramref name="Upper"/>] and then rounded to the
/// grid <paramref name="Granularity"/> (e.g. 0.01 for money), where the sum and the integer noise live; the released
/// value is (grid sum + noise) × granularity. The bounds are approved with the computation and must not be data-derived.
/// </summary>
public sealed record DpAggregateSpec(string Name, DpAggregateKind Kind, decimal Lower, decimal Upper, decimal Granularity = 1m);

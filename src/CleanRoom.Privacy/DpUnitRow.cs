namespace CleanRoom.Privacy;

/// <summary>
/// One per-unit, per-group row: the output of the enclave's <c>GROUP BY unit, group</c> pre-aggregation.
/// <paramref name="Values"/> holds one value per <see cref="DpAggregateSpec"/>, in order. NaN, ±∞ and other IEEE oddities are
/// accepted and mapped before clamping (NaN → 0, +∞ → Upper, −∞ → Lower), so no data value can cause an error.
/// </summary>
public sealed record DpUnitRow(string Unit, string GroupKey, IReadOnlyList<double> Values);

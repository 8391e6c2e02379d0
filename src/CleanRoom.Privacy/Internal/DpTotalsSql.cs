using System.Globalization;
using System.Text;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// Builds the SQL of the DP fast path (<see cref="DpPlan.TotalsSql"/>) around the per-unit query. Per (unit, group) row it
/// computes each aggregate's clamped value in grid steps, in SQL; units in at most L0 groups (for whom the L0 cap keeps
/// everything) are summed per group inside DuckDB, and only the rows of units in more groups come back one by one, for the
/// random cap in C#. The text is composed of this class's own fixed SQL, integer and double literals computed here from the
/// approved bounds, and the per-unit query as DuckDB printed it; no analyst text is spliced.
/// </summary>
/// <remarks>
/// Result columns: <c>__cr_unit</c> (NULL on a group-total row, else the unit of a row to cap), <c>__cr_g0…</c>,
/// <c>__cr_n</c> (units summed in the row), then <c>__cr_a{i}</c> (HUGEINT grid sum) for each aggregate other than
/// count(DISTINCT unit); ordered with the group-total rows first, then by unit.
/// </remarks>
internal static class DpTotalsSql
{
    public const string UnitCountColumn = "__cr_n";

    /// <summary>True when every aggregate's grid allows the fast path (power-of-ten granularity, at most 1e15 grid steps).</summary>
    public static bool Covers(IReadOnlyList<DpAggregateSpec> specs) => specs.All(DpAggregator.IsFastGrid);

    public static string Build(string perUnitSql, int groupCount, IReadOnlyList<DpAggregateSpec> specs, int maxGroupsContributed)
    {
        var groups = Enumerable.Range(0, groupCount).Select(g => DpRewriter.GroupColumnPrefix + Text(g)).ToList();
        var graded = new StringBuilder();
        var totals = new StringBuilder();
        for (var i = 0; i < specs.Count; i++)
        {
            if (specs[i].Kind == DpAggregateKind.CountDistinctUnits)
            {
                continue; // Contributes 1 per unit: the unit count is enough.
            }

            var column = DpRewriter.AggregateColumnPrefix + Text(i);
            graded.Append(", ").Append(Grid(column, specs[i])).Append(" AS __cr_q").Append(Text(i));
            totals.Append(", sum(__cr_q").Append(Text(i)).Append(") AS ").Append(column);
        }

        var groupList = groups.Count > 0 ? ", " + string.Join(", ", groups) : "";
        var positions = string.Join(", ", Enumerable.Range(1, 1 + groupCount).Select(Text));
        return $"SELECT CASE WHEN __cr_k > {Text(maxGroupsContributed)} THEN {DpRewriter.UnitColumn} END AS {DpRewriter.UnitColumn}{groupList}, " +
            $"count(*) AS {UnitCountColumn}{totals} " +
            $"FROM (SELECT {DpRewriter.UnitColumn}{groupList}{graded}, count(*) OVER (PARTITION BY {DpRewriter.UnitColumn}) AS __cr_k " +
            $"FROM ({perUnitSql}) AS __cr_per_unit) AS __cr_graded " +
            $"GROUP BY {positions} ORDER BY 1 NULLS FIRST";
    }

    /// <summary>
    /// The clamped grid integer of one per-unit value, mirroring <see cref="DpAggregator.Clamp"/>: NULL or NaN → the grid
    /// value of 0 clamped to the bounds; v ≥ Upper (+∞ included) → grid(Upper); v ≤ Lower (−∞ included) → grid(Lower);
    /// otherwise round(v × 10^k) (or v / 10^k), one IEEE operation rounded to the nearest integer with halves away from
    /// zero (DuckDB's <c>round</c>), then kept within [grid(Lower), grid(Upper)]. No branch can raise for any double: the
    /// only conversion is a TRY_CAST of a value already within ±1e15.
    /// </summary>
    private static string Grid(string column, DpAggregateSpec spec)
    {
        var v = $"CAST({column} AS DOUBLE)";
        var upper = Integer(DpAggregator.ToGrid(spec.Upper, spec));
        var lower = Integer(DpAggregator.ToGrid(spec.Lower, spec));
        var zero = Integer(DpAggregator.ToGrid(DpAggregator.Clamp(0d, spec), spec));
        var scaled = spec.Granularity < 1m
            ? $"{v} * {Double(1m / spec.Granularity)}"
            : $"{v} / {Double(spec.Granularity)}";
        return $"CASE WHEN {v} IS NULL OR isnan({v}) THEN {zero} " +
            $"WHEN {v} >= {Double(spec.Upper)} THEN {upper} " +
            $"WHEN {v} <= {Double(spec.Lower)} THEN {lower} " +
            $"ELSE least(greatest(coalesce(TRY_CAST(round({scaled}) AS BIGINT), {zero}), {lower}), {upper}) END";
    }

    /// <summary>The double nearest the decimal, as DuckDB parses it back exactly (round-trip format).</summary>
    private static string Double(decimal value) =>
        "CAST('" + ((double)value).ToString("R", CultureInfo.InvariantCulture) + "' AS DOUBLE)";

    private static string Integer(System.Numerics.BigInteger value) =>
        "CAST(" + value.ToString(CultureInfo.InvariantCulture) + " AS BIGINT)";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

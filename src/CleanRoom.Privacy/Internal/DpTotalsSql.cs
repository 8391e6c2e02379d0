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
/// One query, two kinds of rows: group totals (<c>__cr_unit</c> NULL; <c>__cr_n</c> units, <c>__cr_s{i}</c> HUGEINT grid sums)
/// first, then the rows of units in more than L0 groups ordered by unit (<c>__cr_unit</c>, <c>__cr_n</c> = 1,
/// <c>__cr_a{i}</c> BIGINT grid values). Columns: <c>__cr_unit</c>, <c>__cr_g0…</c>, <c>__cr_n</c>, the <c>__cr_a{i}</c>, then
/// the <c>__cr_s{i}</c>, for each aggregate other than count(DISTINCT unit). The number of groups per unit is a window
/// count over the per-unit rows, which are materialized once and read by both halves (measured faster than regrouping the
/// rows to cap, or than one list per unit).
/// </remarks>
internal static class DpTotalsSql
{
    public const string UnitCountColumn = "__cr_n";
    public const string SumColumnPrefix = "__cr_s";

    /// <summary>True when every aggregate's grid allows the fast path (power-of-ten granularity, at most 1e15 grid steps).</summary>
    public static bool Covers(IReadOnlyList<DpAggregateSpec> specs) => specs.All(DpAggregator.IsFastGrid);

    public static string Build(string perUnitSql, int groupCount, IReadOnlyList<DpAggregateSpec> specs, int maxGroupsContributed)
    {
        var groupList = string.Concat(Enumerable.Range(0, groupCount).Select(g => ", " + DpRewriter.GroupColumnPrefix + Text(g)));
        var graded = new StringBuilder();
        var lightValues = new StringBuilder();
        var lightSums = new StringBuilder();
        var heavyValues = new StringBuilder();
        var heavySums = new StringBuilder();
        foreach (var i in Enumerable.Range(0, specs.Count).Where(i => specs[i].Kind != DpAggregateKind.CountDistinctUnits))
        {
            // count(DISTINCT unit) adds 1 per unit: the unit count is enough. Grid values of rows to cap are BIGINT (one
            // value within ±1e15), group sums HUGEINT; each in its own column, so the many rows to cap read as plain longs.
            var value = DpRewriter.AggregateColumnPrefix + Text(i);
            var sum = SumColumnPrefix + Text(i);
            var q = "__cr_q" + Text(i);
            graded.Append(", ").Append(Grid(value, specs[i])).Append(" AS ").Append(q);
            lightValues.Append(", CAST(NULL AS BIGINT) AS ").Append(value);
            lightSums.Append(", sum(").Append(q).Append(") AS ").Append(sum);
            heavyValues.Append(", ").Append(q).Append(" AS ").Append(value);
            heavySums.Append(", CAST(NULL AS HUGEINT) AS ").Append(sum);
        }

        var l0 = Text(maxGroupsContributed);
        var unit = DpRewriter.UnitColumn;
        return $"WITH __cr_graded AS MATERIALIZED (SELECT {unit}{groupList}{graded}, count(*) OVER (PARTITION BY {unit}) AS __cr_k " +
            $"FROM ({perUnitSql}) AS __cr_per_unit) " +
            $"(SELECT NULL AS {unit}{groupList}, count(*) AS {UnitCountColumn}{lightValues}{lightSums} FROM __cr_graded WHERE __cr_k <= {l0}" +
            (groupCount > 0 ? $" GROUP BY {groupList[2..]}" : "") + " HAVING count(*) > 0) " +
            $"UNION ALL (SELECT {unit}{groupList}, CAST(1 AS BIGINT) AS {UnitCountColumn}{heavyValues}{heavySums} FROM __cr_graded WHERE __cr_k > {l0}) " +
            "ORDER BY 1 NULLS FIRST";
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

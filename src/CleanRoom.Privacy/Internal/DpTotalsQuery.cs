using System.Globalization;
using System.Numerics;
using System.Text;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// Builds the SQL that runs steps 2–4 of the per-unit pipeline inside DuckDB, around the per-unit query: each (unit, group)
/// row gets a random rank from <see cref="DpPlan.RandomFunction"/>; a unit keeps its L0 rows of lowest rank (a uniformly
/// random subset, since the ranks are i.i.d. and distinct). With integer units in a range small enough, the ranks are
/// recorded per unit value as they are drawn and a row is kept when its rank is at most its unit's L0-th (the unit index of
/// <see cref="DpCapFunctions"/>, built with <c>indexedByUnit</c>). Otherwise, up to <see cref="DpCapFunctions.MaxGroups"/>, an aggregate per
/// unit marks those ranks and a row is kept when its rank is marked (<see cref="DpCapFunctions"/>); beyond it, a window
/// numbers each unit's rows by rank, the L0-th row's rank is the unit's cut, and a row is kept when its unit has no cut
/// (fewer than L0 rows) or its rank is at most the cut. Each kept value is mapped (NULL/NaN → 0, ±∞ → bound), clamped,
/// rounded onto the grid and clamped again in grid units (by <see cref="DpCapFunctions.GridFunction"/> up to 2^53 grid steps,
/// by DuckDB expressions beyond); the query returns one row per group: the group values, the number of kept units and the
/// exact integer grid sums. Only noise and selection are left to C#.
/// </summary>
/// <remarks>
/// The final clamp in grid units is what the sensitivity rests on: whatever the double arithmetic before it does, each unit
/// adds at most |<see cref="DpAggregator.GridRange"/>| ≤ ⌈max(|lo|,|hi|)/g⌉ to a sum. Sums are exact: BIGINT grid values
/// summed into HUGEINT when a grid value fits in 2^53; otherwise each value is split at 2^64 into a high and a low part,
/// summed separately (neither can overflow) and put together in C#.
/// </remarks>
internal static class DpTotalsQuery
{
    public const string UnitsColumn = "__cr_units";
    public const string SumPrefix = "__cr_s";
    public const string HighPrefix = "__cr_h";
    private const string Rank = "__cr_rank";
    private static readonly BigInteger SmallGrid = DpCapFunctions.MaxGridValue; // the grid function's limit

    /// <summary>True when aggregate <paramref name="spec"/> is summed in two parts (see the remarks).</summary>
    public static bool IsSplit(DpAggregateSpec spec) => DpAggregator.GridMagnitude(spec) > SmallGrid;

    /// <summary>
    /// The totals SQL. With <paramref name="indexedByUnit"/> (L0 ≤ <see cref="DpCapFunctions.MaxGroups"/>, BIGINT-castable units
    /// within the range given to <see cref="DpCapFunctions.IndexUnits(long, long, int)"/>), the ranks are recorded per unit
    /// value as they are drawn and a row is kept when its rank is at most its unit's L0-th; otherwise as described above.
    /// </summary>
    public static string Build(string perUnitSql, int groupCount, IReadOnlyList<DpAggregateSpec> specs, IReadOnlyList<int> sqlColumns, int maxGroupsContributed, bool indexedByUnit = false)
    {
        if (indexedByUnit && maxGroupsContributed > DpCapFunctions.MaxGroups)
        {
            throw new ArgumentOutOfRangeException(nameof(maxGroupsContributed), "the unit index keeps at most MaxGroups ranks per unit");
        }

        var groups = Enumerable.Range(0, groupCount).Select(g => DpRewriter.GroupColumnPrefix + g.ToString(CultureInfo.InvariantCulture)).ToList();

        // The ranks must be drawn once and read twice (to choose each unit's L0, and to filter its rows). MATERIALIZED is
        // essential: a CTE that DuckDB inlines is evaluated once per reference, each drawing its own ranks, and a unit could then
        // keep more than L0 groups (a test checks every unit keeps exactly min(n, L0)). Units are never NULL (the per-unit query
        // drops NULL units); the filter here keeps it so, since the window form's "=" never matches NULL and an unmatched unit
        // keeps every row.
        var unit = DpRewriter.UnitColumn;
        var unitValue = "CAST(" + unit + " AS BIGINT)";
        var draw = indexedByUnit ? DpCapFunctions.RankFunction + "(" + unitValue + ")" : DpPlan.RandomFunction + "()";
        var sql = new StringBuilder("WITH __cr_ranked AS MATERIALIZED (SELECT *, ").Append(draw).Append(" AS ").Append(Rank)
            .Append(" FROM (").Append(perUnitSql).Append(") AS __cr_per_unit WHERE ").Append(unit).Append(" IS NOT NULL)");
        var l0 = maxGroupsContributed.ToString(CultureInfo.InvariantCulture);
        var native = maxGroupsContributed <= DpCapFunctions.MaxGroups;
        if (indexedByUnit)
        {
            // The ranks are recorded per unit as they are drawn; the count of ranked rows is a one-row table joined before the
            // test, and the test fails the statement unless exactly that many ranks were recorded.
            sql.Append(", __cr_marks AS MATERIALIZED (SELECT count(*) AS __cr_total FROM __cr_ranked)");
        }
        else if (native)
        {
            sql.Append(", __cr_marks AS MATERIALIZED (SELECT CAST(coalesce(sum(__cr_k), 0) AS BIGINT) AS __cr_total FROM (SELECT ").Append(DpCapFunctions.TopFor(maxGroupsContributed))
                .Append('(').Append(Rank).Append(") AS __cr_k FROM __cr_ranked GROUP BY ").Append(unit).Append(") AS __cr_t)");
        }

        sql.Append(" SELECT ");
        foreach (var group in groups)
        {
            sql.Append(group).Append(", ");
        }

        sql.Append("count(*) AS ").Append(UnitsColumn);
        for (var i = 0; i < specs.Count; i++)
        {
            if (sqlColumns[i] < 0)
            {
                continue; // count(DISTINCT unit): the unit count is its total.
            }

            var index = i.ToString(CultureInfo.InvariantCulture);
            var grid = GridValue(DpRewriter.AggregateColumnPrefix + index, specs[i]);
            if (IsSplit(specs[i]))
            {
                sql.Append(", sum((").Append(grid).Append(") >> 64) AS ").Append(HighPrefix).Append(index);
                sql.Append(", sum((").Append(grid).Append(") & ").Append(Integer(ulong.MaxValue, "HUGEINT")).Append(") AS ").Append(SumPrefix).Append(index);
            }
            else
            {
                sql.Append(", sum(").Append(grid).Append(") AS ").Append(SumPrefix).Append(index);
            }
        }

        if (indexedByUnit)
        {
            sql.Append(" FROM __cr_ranked CROSS JOIN __cr_marks WHERE ").Append(DpCapFunctions.KeepFunction).Append('(').Append(unitValue).Append(", ")
                .Append(Rank).Append(", __cr_total, ").Append(l0).Append(')');
        }
        else if (native)
        {
            // DpCapFunctions: an aggregate per unit (GROUP BY, so DuckDB alone decides what one unit is) marks each unit's L0
            // lowest ranks; a row is kept when its rank is marked. Ranks are unique (random high bits, a counter below), so
            // every unit keeps exactly min(n, L0) rows. The marks are complete before any row is tested: __cr_marks is a
            // one-row table joined before the test, and the test fails the statement unless the marks add up to its total.
            sql.Append(" FROM __cr_ranked CROSS JOIN __cr_marks WHERE ").Append(DpCapFunctions.KeptFunction).Append('(').Append(Rank).Append(", __cr_total)");
        }
        else
        {
            // Beyond the aggregate's fixed state: a window numbers each unit's rows by rank; the L0-th row's rank is the unit's
            // cut, and a row is kept when its unit has no cut (fewer than L0 rows) or its rank is at most the cut. The window
            // partitions as GROUP BY groups and "=" matches as GROUP BY does (NaN with NaN, −0.0 with 0.0), so every per-unit
            // row meets its own unit's cut and no other.
            sql.Append(" FROM (SELECT __cr_r.* FROM __cr_ranked AS __cr_r LEFT JOIN (SELECT ").Append(unit).Append(" AS __cr_u, ").Append(Rank)
                .Append(" AS __cr_cut FROM (SELECT ").Append(unit).Append(", ").Append(Rank).Append(" FROM __cr_ranked) AS __cr_n QUALIFY row_number() OVER (PARTITION BY ")
                .Append(unit).Append(" ORDER BY ").Append(Rank).Append(") = ").Append(l0)
                .Append(") AS __cr_c ON __cr_r.").Append(unit).Append(" = __cr_c.__cr_u WHERE __cr_c.__cr_cut IS NULL OR __cr_r.").Append(Rank)
                .Append(" <= __cr_c.__cr_cut) AS __cr_kept");
        }

        if (groups.Count > 0)
        {
            sql.Append(" GROUP BY ").Append(string.Join(", ", groups));
        }

        return sql.ToString();
    }

    /// <summary>The per-unit value of <paramref name="column"/> mapped, clamped and rounded onto the grid, in [grid(lo), grid(hi)].</summary>
    private static string GridValue(string column, DpAggregateSpec spec)
    {
        var lower = Double((double)spec.Lower);
        var upper = Double((double)spec.Upper);
        var granularity = Double((double)spec.Granularity);
        var (low, high) = DpAggregator.GridRange(spec);
        if (!IsSplit(spec))
        {
            // The common case, in one native call per value (DpCapFunctions.ToGrid): a fraction of the same steps as DuckDB
            // expressions, each of which passes over every kept row.
            return $"{DpCapFunctions.GridFunction}(CAST({column} AS DOUBLE), {lower}, {upper}, {granularity}, {Integer(low, "BIGINT")}, {Integer(high, "BIGINT")})";
        }

        // Grids beyond 2^53 steps, in DuckDB expressions with the same steps. NULL and NaN become 0 (DuckDB's "=" holds between
        // any two NaN, so nullif maps every NaN to NULL); ±∞ need no case of their own, the clamp takes them to the bounds. NaN
        // must be mapped before the clamp: DuckDB orders NaN above every number, and least/greatest skip NULL.
        var clamped = $"least(greatest(coalesce(nullif(CAST({column} AS DOUBLE), {Double(double.NaN)}), 0.0::DOUBLE), {lower}), {upper})";
        return $"least(greatest(CAST(round_even({clamped} / {granularity}, 0) AS HUGEINT), {Integer(low, "HUGEINT")}), {Integer(high, "HUGEINT")})";
    }

    private static string Double(double value) => "CAST('" + value.ToString("R", CultureInfo.InvariantCulture) + "' AS DOUBLE)";

    private static string Integer(BigInteger value, string type) => "CAST('" + value.ToString(CultureInfo.InvariantCulture) + "' AS " + type + ")";
}

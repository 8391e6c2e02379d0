using System.Numerics;
using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// The outcome of <see cref="DpRewriter.Plan"/>. Fails closed: <see cref="IsAllowed"/> is true only for plans built after every
/// check passed; a refusal carries a stable <see cref="ErrorCode"/> (<see cref="PrivacyErrorCodes"/>) and a one-line <see cref="Reason"/>.
/// </summary>
public sealed record DpPlan
{
    private DpPlan() { }

    public bool IsAllowed { get; private init; }
    public string? ErrorCode { get; private init; }
    public string? Reason { get; private init; }

    /// <summary>
    /// The name of the scalar function <see cref="TotalsSql"/> draws its random ranks from. The executor registers it on its
    /// DuckDB connection: no arguments, not pure, one UBIGINT per row, values distinct within a query (random high 32 bits
    /// from a CSPRNG, a counter in the low 32 bits) and never 2^64 − 1, the cap's empty slot (<see cref="DpCapFunctions"/>).
    /// </summary>
    public const string RandomFunction = "__cr_dp_random";

    /// <summary>The per-unit SQL: columns <c>__cr_unit</c>, <c>__cr_g0…</c>, <c>__cr_a0…</c>; parameters bind as in the analyst's SQL.</summary>
    public string PerUnitSql { get; private init; } = "";

    /// <summary>
    /// With private partition selection: the SQL that caps, clamps and sums inside DuckDB around the per-unit query (see
    /// <see cref="ReleaseTotals"/>); it needs <see cref="RandomFunction"/>. Null with public groups, whose rows are filtered
    /// before the cap by <see cref="Release"/> over <see cref="PerUnitSql"/>.
    /// </summary>
    public string? TotalsSql { get; private init; }

    /// <summary>
    /// <see cref="TotalsSql"/> with the cap indexed by unit value instead of grouped by unit (<see cref="DpCapFunctions"/>,
    /// <c>__cr_cap_rank</c> and <c>__cr_cap_keep</c>): the same totals, without DuckDB's hash table of every unit. Null where
    /// <see cref="TotalsSql"/> is, or when L0 &gt; <see cref="DpCapFunctions.MaxGroups"/>. The executor runs it only after
    /// <see cref="UnitRangeSql"/> gave an integer range that <see cref="DpCapFunctions.IndexUnits(long, long, int)"/> took.
    /// </summary>
    public string? UnitIndexedTotalsSql { get; private init; }

    /// <summary>
    /// One row, the least and greatest value of the unit column in the unit table (NULL when it has none): the range that
    /// sizes the unit index. Non-null exactly when <see cref="UnitIndexedTotalsSql"/> is.
    /// </summary>
    public string? UnitRangeSql { get; private init; }

    /// <summary>The analyst's output column names, in order.</summary>
    public IReadOnlyList<string> Columns { get; private init; } = [];

    /// <summary>One spec per aggregate output, in output order, with its approved bounds.</summary>
    public IReadOnlyList<DpAggregateSpec> Aggregates { get; private init; } = [];

    public DpOptions Options { get; private init; } = new(1m, 0m, 1);

    /// <summary>Plain-language description of the DP parameters for approvers.</summary>
    public string Summary { get; private init; } = "";

    internal IReadOnlyList<DpOutput> Outputs { get; private init; } = [];
    internal int GroupCount { get; private init; }
    internal IReadOnlyList<int> AggregateSqlColumns { get; private init; } = [];

    internal static DpPlan Refused(string code, string reason) =>
        new() { ErrorCode = code, Reason = reason.ReplaceLineEndings(" ") };

    internal static DpPlan Allowed(
        string perUnitSql,
        string? totalsSql,
        (string Totals, string Range)? unitIndexed,
        IReadOnlyList<string> columns,
        IReadOnlyList<DpOutput> outputs,
        int groupCount,
        IReadOnlyList<DpAggregateSpec> aggregates,
        IReadOnlyList<int> aggregateSqlColumns,
        DpOptions options,
        string summary) =>
        new()
        {
            IsAllowed = true,
            PerUnitSql = perUnitSql,
            TotalsSql = totalsSql,
            UnitIndexedTotalsSql = unitIndexed?.Totals,
            UnitRangeSql = unitIndexed?.Range,
            Columns = columns,
            Outputs = outputs,
            GroupCount = groupCount,
            Aggregates = aggregates,
            AggregateSqlColumns = aggregateSqlColumns,
            Options = options,
            Summary = summary,
        };

    /// <summary>
    /// Runs the DP pipeline over the rows of <see cref="PerUnitSql"/>, in the order the SQL returns them (by unit), and returns the released rows in the analyst's column order:
    /// group values as DuckDB returned them (with public groups, always the approved strings, so they reveal nothing), aggregates as
    /// noisy decimals. Rows are sorted by their group values. Never fails on a data value.
    /// </summary>
    public DpRelease Release(IEnumerable<object?[]> perUnitRows, IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(perUnitRows);
        if (!IsAllowed)
        {
            throw new InvalidOperationException("A refused plan cannot release anything.");
        }

        var decoded = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        var result = new DpAggregator(random).AggregateOrderedByUnit(UnitRows(perUnitRows, decoded), Aggregates, Options);

        return Rows(result, decoded);
    }

    /// <summary>
    /// Noise and selection over the rows of <see cref="TotalsSql"/> (one per group: group values, kept units, grid sums),
    /// then the released rows as <see cref="Release"/> returns them. Never fails on a data value.
    /// </summary>
    public DpRelease ReleaseTotals(IEnumerable<object?[]> totalsRows, IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(totalsRows);
        if (!IsAllowed || TotalsSql is null)
        {
            throw new InvalidOperationException("Only an allowed plan with private partition selection has totals to release.");
        }

        var decoded = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        var result = new DpAggregator(random).AggregateTotals(GroupTotals(totalsRows, decoded), Aggregates, Options);
        return Rows(result, decoded);
    }

    private IEnumerable<(string GroupKey, BigInteger Units, BigInteger[] Sums)> GroupTotals(IEnumerable<object?[]> rows, Dictionary<string, object?[]> decoded)
    {
        foreach (var row in rows)
        {
            var units = ToInteger(row[GroupCount]);
            if (units.IsZero)
            {
                continue; // a query without GROUP BY returns its one row even when no unit is left
            }

            var groupValues = row[..GroupCount];
            var key = DpGroupKey.Encode(groupValues.Select(DpGroupKey.Format).ToList());
            decoded.TryAdd(key, groupValues);
            var sums = new BigInteger[Aggregates.Count];
            var column = GroupCount + 1;
            for (var a = 0; a < sums.Length; a++)
            {
                if (AggregateSqlColumns[a] < 0)
                {
                    continue;
                }

                sums[a] = DpTotalsQuery.IsSplit(Aggregates[a])
                    ? (ToInteger(row[column++]) << 64) + ToInteger(row[column++])
                    : ToInteger(row[column++]);
            }

            yield return (key, units, sums);
        }
    }

    /// <summary>A count (BIGINT) or a grid sum (HUGEINT) of the totals query; NULL (a sum over no row) is 0.</summary>
    private static BigInteger ToInteger(object? value) => value switch
    {
        null or DBNull => BigInteger.Zero,
        BigInteger b => b,
        long l => l,
        _ => throw new InvalidOperationException("The totals query returned a value that is not an integer."),
    };

    private DpRelease Rows(DpResult result, Dictionary<string, object?[]> decoded)
    {
        var rows = new List<(object?[] Groups, object?[] Row)>();
        foreach (var group in result.Groups)
        {
            // Public groups are output as the approved strings, whether or not any unit is in the group: the data's typed
            // values (a number, a date) would differ from the strings of an empty group in type and in sort order, and so
            // reveal whether anyone is in it. With private selection a released group's own values are what is released.
            var groupValues = Options.PublicGroupKeys is not null ? DecodePublic(group.GroupKey) : decoded[group.GroupKey];

            var row = new object?[Outputs.Count];
            for (var i = 0; i < Outputs.Count; i++)
            {
                row[i] = Outputs[i].IsGroup ? groupValues[Outputs[i].Index] : group.Values[Outputs[i].Index];
            }

            rows.Add((groupValues, row));
        }

        rows.Sort((a, b) => DpGroupKey.Compare(a.Groups, b.Groups));
        return new DpRelease(Columns, rows.Select(r => r.Row).ToList(), result.Cost, result.SelectionThreshold);
    }

    private IEnumerable<DpUnitRow> UnitRows(IEnumerable<object?[]> rows, Dictionary<string, object?[]> decoded)
    {
        // Group values repeat across units: encode each distinct value list once.
        var keys = new Dictionary<object?[], string>(GroupValuesComparer.Instance);
        var groupTexts = new string?[GroupCount];
        foreach (var row in rows)
        {
            var unit = DpGroupKey.Format(row[0] is double d && d == 0d ? 0d : row[0]); // −0.0 and 0.0 are one unit
            if (unit is null)
            {
                continue; // NULL units never contribute (the SQL filters them too).
            }

            var groupValues = row[1..(1 + GroupCount)];
            if (!keys.TryGetValue(groupValues, out var key))
            {
                for (var g = 0; g < GroupCount; g++)
                {
                    groupTexts[g] = DpGroupKey.Format(groupValues[g]);
                }

                key = DpGroupKey.Encode(groupTexts);
                keys.Add(groupValues, key);
                decoded.TryAdd(key, groupValues);
            }

            var values = new double[Aggregates.Count];
            for (var a = 0; a < values.Length; a++)
            {
                values[a] = AggregateSqlColumns[a] < 0 ? 1d : ToDouble(row[AggregateSqlColumns[a]]);
            }

            yield return new DpUnitRow(unit, key, values);
        }
    }

    private object?[] DecodePublic(string key)
    {
        var match = Options.PublicGroupKeys!.First(k => k == key);
        var values = new object?[GroupCount];
        var position = 0;
        for (var g = 0; g < GroupCount; g++)
        {
            if (match[position] == '-')
            {
                position++;
                continue;
            }

            var colon = match.IndexOf(':', position);
            var length = int.Parse(match.AsSpan(position, colon - position), System.Globalization.CultureInfo.InvariantCulture);
            values[g] = match.Substring(colon + 1, length);
            position = colon + 1 + length;
        }

        return values;
    }

    /// <summary>DuckDB's numeric results as double; NULL (a unit with no non-NULL value) is NaN, which the aggregator maps to 0.</summary>
    private static double ToDouble(object? value) => value switch
    {
        null or DBNull => double.NaN,
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        decimal m => (double)m,
        BigInteger b => (double)b,
        ulong u => u,
        IConvertible c => c.ToDouble(System.Globalization.CultureInfo.InvariantCulture),
        _ => double.NaN,
    };

    /// <summary>Equality of group value lists as DuckDB returned them (boxed values compared with Equals).</summary>
    private sealed class GroupValuesComparer : IEqualityComparer<object?[]>
    {
        public static GroupValuesComparer Instance { get; } = new();

        public bool Equals(object?[]? x, object?[]? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Length != y.Length)
            {
                return false;
            }

            for (var i = 0; i < x.Length; i++)
            {
                if (!object.Equals(x[i], y[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(object?[] values)
        {
            var hash = new HashCode();
            foreach (var value in values)
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }
}

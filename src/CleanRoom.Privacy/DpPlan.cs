using System.Data;
using System.Diagnostics.CodeAnalysis;
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

    /// <summary>The per-unit SQL: columns <c>__cr_unit</c>, <c>__cr_g0…</c>, <c>__cr_a0…</c>; parameters bind as in the analyst's SQL.</summary>
    public string PerUnitSql { get; private init; } = "";

    /// <summary>
    /// The fast path's SQL (read it with <see cref="TryReleaseTotals"/>), or null when the plan has a grid it does not cover
    /// (granularity not a power of ten, or more than 1e15 grid steps): then only <see cref="PerUnitSql"/> and
    /// <see cref="Release"/> apply. It wraps the per-unit query, clamps and grids each per-unit value in SQL, sums the units in
    /// at most L0 groups per group inside DuckDB, and returns the rows of the other units for the random L0 cap.
    /// </summary>
    public string? TotalsSql { get; private init; }

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
    /// group values as DuckDB returned them (or, for a public group absent from the data, the approved strings), aggregates as
    /// noisy decimals. Rows are sorted by their group values. Never fails on a data value. This is the streaming path, the
    /// fallback for what <see cref="TotalsSql"/> does not cover.
    /// </summary>
    public DpRelease Release(IEnumerable<object?[]> perUnitRows, IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(perUnitRows);
        EnsureAllowed();
        var aggregator = new DpAggregator(random);
        var keys = new GroupKeys(GroupCount);
        return Build(aggregator.ReleaseTotals(PerUnitTotals(aggregator, perUnitRows, keys), Aggregates, Options), keys);
    }

    /// <summary>
    /// The fast path: runs noise and selection over the rows of <see cref="TotalsSql"/> (group totals of the units in at most L0
    /// groups, then the rows of the other units, ordered by unit, which get the random L0 cap here) and returns the same
    /// release as <see cref="Release"/> would. False, with nothing released and no noise drawn, if two distinct group values
    /// print as the same group key (e.g. values of a type whose text is not exact): the caller then runs the streaming path,
    /// since a unit's clamped values in both could not be told apart. Never fails on a data value.
    /// </summary>
    public bool TryReleaseTotals(IEnumerable<IDataRecord> totalsRows, IRandomSource? random, [NotNullWhen(true)] out DpRelease? release)
    {
        ArgumentNullException.ThrowIfNull(totalsRows);
        EnsureAllowed();
        if (TotalsSql is null)
        {
            throw new InvalidOperationException("This plan has no fast path; use Release over the per-unit rows.");
        }

        var aggregator = new DpAggregator(random);
        var keys = new GroupKeys(GroupCount);
        var totals = FastTotals(aggregator, totalsRows, keys);
        release = totals is null ? null : Build(aggregator.ReleaseTotals(totals, Aggregates, Options), keys);
        return release is not null;
    }

    /// <summary>The streaming path's pre-noise totals per group key (tests compare them with <see cref="FastTotals"/>).</summary>
    internal Dictionary<string, DpGroupTotals> PerUnitTotals(DpAggregator aggregator, IEnumerable<object?[]> perUnitRows, GroupKeys keys) =>
        aggregator.Accumulate(aggregator.MergeOrderedByUnit(UnitRows(perUnitRows, keys), Aggregates, Options), Aggregates, Options);

    /// <summary>The fast path's pre-noise totals per group key, or null on a group-key collision (see <see cref="TryReleaseTotals"/>).</summary>
    internal Dictionary<string, DpGroupTotals>? FastTotals(DpAggregator aggregator, IEnumerable<IDataRecord> rows, GroupKeys keys)
    {
        var publicKeys = Options.PublicGroupKeys is { } list ? new HashSet<string>(list, StringComparer.Ordinal) : null;
        var l0 = Options.MaxGroupsContributed;
        var unitsColumn = 1 + GroupCount;
        // Per aggregate (−1 for count(DISTINCT unit)): the column of a capped row's grid value, and of a group total's sum.
        var valueColumns = new int[Aggregates.Count];
        var next = unitsColumn + 1;
        for (var a = 0; a < valueColumns.Length; a++)
        {
            valueColumns[a] = Aggregates[a].Kind == DpAggregateKind.CountDistinctUnits ? -1 : next++;
        }

        var sumColumns = valueColumns.Select(c => c < 0 ? -1 : c + (next - unitsColumn - 1)).ToArray();

        var totals = new Dictionary<string, DpGroupTotals>(StringComparer.Ordinal);
        var summedKeys = new HashSet<string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var unitGroups = new Dictionary<string, long[]>(StringComparer.Ordinal);
        string? current = null;
        var groupValues = new object?[GroupCount];
        foreach (var row in rows)
        {
            for (var g = 0; g < GroupCount; g++)
            {
                groupValues[g] = row.IsDBNull(1 + g) ? null : row.GetValue(1 + g);
            }

            var key = keys.KeyOf(groupValues);
            if (row.IsDBNull(0))
            {
                // Group totals of the units in at most L0 groups: the cap keeps all their groups, public or not.
                if (!summedKeys.Add(key))
                {
                    return null;
                }

                if (publicKeys is not null && !publicKeys.Contains(key))
                {
                    continue;
                }

                var total = DpAggregator.TotalsOf(totals, key, Aggregates.Count);
                total.Units += row.GetInt64(unitsColumn);
                for (var a = 0; a < sumColumns.Length; a++)
                {
                    if (sumColumns[a] >= 0)
                    {
                        total.GridSums[a] += ToBigInteger(row.GetValue(sumColumns[a]));
                    }
                }

                continue;
            }

            // A unit in more than L0 groups: one row per group, ordered by unit.
            var unitValue = row.GetValue(0);
            var unit = DpGroupKey.Format(unitValue is double d && d == 0d ? 0d : unitValue)!; // −0.0 and 0.0 are one unit
            if (!string.Equals(unit, current, StringComparison.Ordinal))
            {
                aggregator.AddCappedUnit(totals, unitGroups, Aggregates.Count, l0);
                unitGroups.Clear();
                if (!finished.Add(unit))
                {
                    throw new InvalidOperationException("Per-unit rows must arrive ordered by unit.");
                }

                current = unit;
            }

            if (publicKeys is not null && !publicKeys.Contains(key))
            {
                continue; // Only public groups are ever output; spend no contribution on others (as the streaming path).
            }

            var values = new long[Aggregates.Count];
            for (var a = 0; a < values.Length; a++)
            {
                values[a] = valueColumns[a] < 0 ? 1 : row.GetInt64(valueColumns[a]);
            }

            if (!unitGroups.TryAdd(key, values))
            {
                return null;
            }
        }

        aggregator.AddCappedUnit(totals, unitGroups, Aggregates.Count, l0);
        return totals;
    }

    private DpRelease Build(DpResult result, GroupKeys keys)
    {
        var rows = new List<(object?[] Groups, object?[] Row)>();
        foreach (var group in result.Groups)
        {
            if (!keys.Decoded.TryGetValue(group.GroupKey, out var groupValues))
            {
                // A public group no unit contributed to: output the approved strings.
                groupValues = DecodePublic(group.GroupKey);
            }

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

    private void EnsureAllowed()
    {
        if (!IsAllowed)
        {
            throw new InvalidOperationException("A refused plan cannot release anything.");
        }
    }

    private IEnumerable<DpUnitRow> UnitRows(IEnumerable<object?[]> rows, GroupKeys keys)
    {
        foreach (var row in rows)
        {
            var unit = DpGroupKey.Format(row[0] is double d && d == 0d ? 0d : row[0]); // −0.0 and 0.0 are one unit
            if (unit is null)
            {
                continue; // NULL units never contribute (the SQL filters them too).
            }

            var key = keys.KeyOf(row.AsSpan(1, GroupCount));
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

    /// <summary>A HUGEINT grid sum as DuckDB.NET returns it.</summary>
    private static BigInteger ToBigInteger(object value) => value switch
    {
        BigInteger b => b,
        long l => l,
        _ => BigInteger.Parse(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!, System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Group keys (<see cref="DpGroupKey"/>) of group value lists as DuckDB returned them: each distinct list is encoded once,
    /// and <see cref="Decoded"/> keeps the first value list of each key for the output rows.
    /// </summary>
    internal sealed class GroupKeys(int groupCount)
    {
        private readonly Dictionary<object?[], string> _keys = new(GroupValuesComparer.Instance);
        private readonly string?[] _texts = new string?[groupCount];

        public Dictionary<string, object?[]> Decoded { get; } = new(StringComparer.Ordinal);

        public string KeyOf(ReadOnlySpan<object?> groupValues)
        {
            var lookup = _keys.GetAlternateLookup<ReadOnlySpan<object?>>();
            if (lookup.TryGetValue(groupValues, out var key))
            {
                return key;
            }

            for (var g = 0; g < _texts.Length; g++)
            {
                _texts[g] = DpGroupKey.Format(groupValues[g]);
            }

            key = DpGroupKey.Encode(_texts);
            var copy = groupValues.ToArray();
            _keys.Add(copy, key);
            Decoded.TryAdd(key, copy);
            return key;
        }
    }

    /// <summary>Equality of group value lists as DuckDB returned them (boxed values compared with Equals).</summary>
    private sealed class GroupValuesComparer : IEqualityComparer<object?[]>, IAlternateEqualityComparer<ReadOnlySpan<object?>, object?[]>
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

        public int GetHashCode(object?[] values) => GetHashCode(values.AsSpan());

        public bool Equals(ReadOnlySpan<object?> alternate, object?[] other)
        {
            if (alternate.Length != other.Length)
            {
                return false;
            }

            for (var i = 0; i < alternate.Length; i++)
            {
                if (!object.Equals(alternate[i], other[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(ReadOnlySpan<object?> values)
        {
            var hash = new HashCode();
            foreach (var value in values)
            {
                hash.Add(value);
            }

            return hash.ToHashCode();
        }

        public object?[] Create(ReadOnlySpan<object?> alternate) => alternate.ToArray();
    }
}

using System.Numerics;
using CleanRoom.Core;
using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// The per-unit DP pipeline (ZetaSQL/BigQuery style) over rows already aggregated per (unit, group):
/// keep at most L0 groups per unit (uniformly at random) → map NaN/±∞ and clamp each per-unit value → sum on an integer grid
/// → add exact discrete Laplace noise → release groups whose noisy unit count clears the selection threshold (or exactly
/// the public group keys). See SECURITY.md (Privacy engine) for the budget split and sensitivities.
/// </summary>
public sealed class DpAggregator
{
    // Keeps |bound| / granularity and decimal conversions far from overflow, so no data value can raise an error.
    private const decimal MaxBound = 1_000_000_000_000_000_000_000_000m; // 1e27
    private static readonly BigInteger MaxGridBound = BigInteger.Pow(10, 30);
    private static readonly BigInteger FastGridLimit = BigInteger.Pow(10, 15);

    private readonly IRandomSource _random;

    public DpAggregator(IRandomSource? random = null)
    {
        _random = random ?? CryptoRandomSource.Instance;
    }

    public DpResult Aggregate(IEnumerable<DpUnitRow> rows, IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(aggregates);
        ArgumentNullException.ThrowIfNull(options);
        Validate(aggregates, options);
        return Run(MergeByUnit(rows, aggregates, PublicKeys(options)).Values, aggregates, options);
    }

    /// <summary>
    /// As <see cref="Aggregate"/>, for rows that arrive ordered by unit (the per-unit SQL sorts them): each unit is
    /// processed as soon as its rows end, so memory holds one unit's groups instead of every unit's. Throws if a unit's
    /// rows are not contiguous, since splitting a unit would break its contribution bound.
    /// </summary>
    internal DpResult AggregateOrderedByUnit(IEnumerable<DpUnitRow> rows, IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(aggregates);
        ArgumentNullException.ThrowIfNull(options);
        Validate(aggregates, options);
        return Run(MergeContiguous(rows, aggregates, PublicKeys(options)), aggregates, options);
    }

    private static HashSet<string>? PublicKeys(DpOptions options) =>
        options.PublicGroupKeys is { } keys ? new HashSet<string>(keys, StringComparer.Ordinal) : null;

    /// <summary>1. Merges duplicate (unit, group) rows defensively; the input should already be one row per pair.</summary>
    private static Dictionary<string, Dictionary<string, double[]>> MergeByUnit(IEnumerable<DpUnitRow> rows, IReadOnlyList<DpAggregateSpec> aggregates, HashSet<string>? publicKeys)
    {
        var perUnit = new Dictionary<string, Dictionary<string, double[]>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!Accept(row, aggregates, publicKeys))
            {
                continue;
            }

            if (!perUnit.TryGetValue(row.Unit, out var groups))
            {
                groups = new Dictionary<string, double[]>(StringComparer.Ordinal);
                perUnit.Add(row.Unit, groups);
            }

            Merge(groups, row, aggregates);
        }

        return perUnit;
    }

    private static IEnumerable<Dictionary<string, double[]>> MergeContiguous(IEnumerable<DpUnitRow> rows, IReadOnlyList<DpAggregateSpec> aggregates, HashSet<string>? publicKeys)
    {
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var groups = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!Accept(row, aggregates, publicKeys))
            {
                continue;
            }

            if (!string.Equals(row.Unit, current, StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    yield return groups;
                    groups = new Dictionary<string, double[]>(StringComparer.Ordinal);
                }

                if (!finished.Add(row.Unit))
                {
                    throw new InvalidOperationException("Per-unit rows must arrive ordered by unit.");
                }

                current = row.Unit;
            }

            Merge(groups, row, aggregates);
        }

        if (current is not null)
        {
            yield return groups;
        }
    }

    private static bool Accept(DpUnitRow row, IReadOnlyList<DpAggregateSpec> aggregates, HashSet<string>? publicKeys)
    {
        if (row.Values.Count != aggregates.Count)
        {
            throw new ArgumentException("Each row needs one value per aggregate.", nameof(row));
        }

        // Only public groups are ever output; spend no contribution on others.
        return publicKeys is null || publicKeys.Contains(row.GroupKey);
    }

    private static void Merge(Dictionary<string, double[]> groups, DpUnitRow row, IReadOnlyList<DpAggregateSpec> aggregates)
    {
        if (!groups.TryGetValue(row.GroupKey, out var values))
        {
            values = new double[aggregates.Count];
            groups.Add(row.GroupKey, values);
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MapNonFinite(values[i] + MapNonFinite(row.Values[i], aggregates[i]), aggregates[i]);
        }
    }

    private DpResult Run(IEnumerable<Dictionary<string, double[]>> units, IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        var l0 = options.MaxGroupsContributed;

        // 2–4. Cap groups per unit, clamp, sum on the grid.
        var fastGrid = aggregates.Select(IsFastGrid).ToArray();
        var totals = new Dictionary<string, GroupTotals>(StringComparer.Ordinal);
        foreach (var groups in units)
        {
            foreach (var (groupKey, values) in KeepAtMost(groups, l0))
            {
                if (!totals.TryGetValue(groupKey, out var total))
                {
                    total = new GroupTotals(aggregates.Count);
                    totals.Add(groupKey, total);
                }

                total.Units++;
                for (var i = 0; i < aggregates.Count; i++)
                {
                    var clamped = Clamp(values[i], aggregates[i]);
                    if (fastGrid[i])
                    {
                        // Exact: dividing by a power of ten only moves the decimal point, and |clamped / g| ≤ 1e15.
                        total.FastSums[i] += (long)Math.Round(clamped / aggregates[i].Granularity, MidpointRounding.ToEven);
                    }
                    else
                    {
                        total.GridSums[i] += ToGrid(clamped, aggregates[i]);
                    }
                }
            }
        }

        return NoiseAndSelect(totals, aggregates, options);
    }

    /// <summary>
    /// Steps 5 and 6 over per-group totals that were capped, clamped and summed on the grid elsewhere (in DuckDB, by the
    /// query of <see cref="DpPlan.TotalsSql"/>): noise, then private partition selection. Only for private selection; a
    /// repeated group key is refused, since merging two rows could count a unit twice.
    /// </summary>
    internal DpResult AggregateTotals(IEnumerable<(string GroupKey, BigInteger Units, BigInteger[] Sums)> groups, IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(aggregates);
        ArgumentNullException.ThrowIfNull(options);
        Validate(aggregates, options);
        if (options.PublicGroupKeys is not null)
        {
            throw new ArgumentException("Totals are only for private partition selection; public groups are filtered before the cap.", nameof(options));
        }

        var totals = new Dictionary<string, GroupTotals>(StringComparer.Ordinal);
        foreach (var (key, units, sums) in groups)
        {
            if (sums.Length != aggregates.Count)
            {
                throw new ArgumentException("Each group needs one sum per aggregate.", nameof(groups));
            }

            var total = new GroupTotals(aggregates.Count) { Units = units };
            Array.Copy(sums, total.GridSums, sums.Length);
            if (units.Sign < 0 || !totals.TryAdd(key, total))
            {
                throw new InvalidOperationException("Per-group totals must have one row per group and a unit count that is not negative.");
            }
        }

        return NoiseAndSelect(totals, aggregates, options);
    }

    /// <summary>5–6. Noise and selection over the capped, clamped grid totals of each group.</summary>
    private DpResult NoiseAndSelect(Dictionary<string, GroupTotals> totals, IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        var l0 = options.MaxGroupsContributed;
        var publicKeys = PublicKeys(options);
        var privateSelection = publicKeys is null;

        // ε is split evenly: one share per measurement (Average measures a sum and a count) plus one for selection.
        var shares = aggregates.Sum(a => a.Kind == DpAggregateKind.Average ? 2 : 1) + (privateSelection ? 1 : 0);
        var epsilonShare = Rational.FromDecimal(options.Epsilon) / shares;
        var cost = new PrivacyCost(options.Epsilon, privateSelection ? options.Delta : 0m);

        // 5. Noise and selection. Candidate groups: public keys (even if empty), or groups with at least one unit.
        long? threshold = privateSelection
            ? PartitionSelection.Threshold((double)options.Epsilon / shares, (double)options.Delta, l0)
            : null;
        var candidates = publicKeys is not null ? publicKeys.Order(StringComparer.Ordinal) : totals.Keys.Order(StringComparer.Ordinal);
        var countScale = new Rational(l0, 1) / epsilonShare;
        var released = new List<DpGroupResult>();
        foreach (var key in candidates)
        {
            var total = totals.GetValueOrDefault(key) ?? new GroupTotals(aggregates.Count);
            if (threshold is { } t && total.Units + DiscreteLaplace.Sample(countScale, _random) < t)
            {
                continue;
            }

            var values = new decimal[aggregates.Count];
            for (var i = 0; i < aggregates.Count; i++)
            {
                values[i] = Release(aggregates[i], total, i, l0, epsilonShare, countScale);
            }

            released.Add(new DpGroupResult(key, values));
        }

        return new DpResult(released, cost, threshold);
    }

    private decimal Release(DpAggregateSpec spec, GroupTotals total, int index, int l0, Rational epsilonShare, Rational countScale)
    {
        if (spec.Kind == DpAggregateKind.CountDistinctUnits)
        {
            return ToDecimal(total.Units + DiscreteLaplace.Sample(countScale, _random), 1m);
        }

        // L1 sensitivity in grid units: a unit adds at most ⌈max(|lo|,|hi|)/g⌉ to each of at most L0 groups.
        var sumScale = new Rational(l0 * GridMagnitude(spec), 1) / epsilonShare;
        var noisyGridSum = total.Sum(index) + DiscreteLaplace.Sample(sumScale, _random);
        var noisySum = ToDecimal(noisyGridSum, spec.Granularity);
        if (spec.Kind != DpAggregateKind.Average)
        {
            return noisySum;
        }

        // Post-processing of two noisy measurements; clamped so a tiny or negative noisy count cannot blow up.
        var noisyUnits = total.Units + DiscreteLaplace.Sample(countScale, _random);
        var average = noisySum / (decimal)BigInteger.Max(noisyUnits, BigInteger.One);
        return Math.Clamp(average, spec.Lower, spec.Upper);
    }

    /// <summary>Uniformly random subset of at most <paramref name="limit"/> groups (partial Fisher–Yates on the crypto RNG).</summary>
    private IEnumerable<KeyValuePair<string, double[]>> KeepAtMost(Dictionary<string, double[]> groups, int limit)
    {
        if (groups.Count <= limit)
        {
            return groups;
        }

        var all = groups.ToArray();
        for (var i = 0; i < limit; i++)
        {
            var j = i + (int)_random.NextBigInteger(all.Length - i);
            (all[i], all[j]) = (all[j], all[i]);
        }

        return all.Take(limit);
    }

    /// <summary>NaN → 0, +∞ → Upper, −∞ → Lower (and −0.0 → 0), before any clamping or arithmetic.</summary>
    internal static double MapNonFinite(double value, DpAggregateSpec spec) => value switch
    {
        double.NaN => 0d,
        double.PositiveInfinity => (double)spec.Upper,
        double.NegativeInfinity => (double)spec.Lower,
        0d => 0d,
        _ => value,
    };

    /// <summary>Clamps a mapped value to [Lower, Upper] as an exact decimal; cannot throw for any double.</summary>
    internal static decimal Clamp(double value, DpAggregateSpec spec)
    {
        if (spec.Kind == DpAggregateKind.CountDistinctUnits)
        {
            return 1m;
        }

        value = MapNonFinite(value, spec);
        if (value >= (double)spec.Upper)
        {
            return spec.Upper;
        }

        if (value <= (double)spec.Lower)
        {
            return spec.Lower;
        }

        // Strictly inside bounds of magnitude ≤ 1e27, so the conversion cannot overflow.
        return Math.Clamp((decimal)value, spec.Lower, spec.Upper);
    }

    /// <summary>Rounds value/granularity to the nearest integer (ties to even) exactly.</summary>
    internal static BigInteger ToGrid(decimal value, DpAggregateSpec spec)
    {
        var ratio = Rational.FromDecimal(value) / Rational.FromDecimal(spec.Granularity);
        var floor = ratio.Floor();
        var fraction = ratio - floor;
        var half = new Rational(1, 2);
        return fraction > half || (fraction == half && !floor.IsEven) ? floor + 1 : floor;
    }

    /// <summary>gridValue × granularity as a decimal, saturating at the decimal range (post-processing; never throws).</summary>
    internal static decimal ToDecimal(BigInteger gridValue, decimal granularity)
    {
        var exact = Rational.FromInteger(gridValue) * Rational.FromDecimal(granularity);
        if (exact > Rational.FromDecimal(decimal.MaxValue))
        {
            return decimal.MaxValue;
        }

        if (exact < Rational.FromDecimal(decimal.MinValue))
        {
            return decimal.MinValue;
        }

        // The denominator is a power of ten ≤ 10^28 (granularity is a decimal), so both parts convert exactly.
        var whole = exact.Floor();
        var fraction = exact - whole;
        return (decimal)whole + ((decimal)fraction.Numerator / (decimal)fraction.Denominator);
    }

    /// <summary>The grid values of the bounds: every clamped per-unit value rounds into this range.</summary>
    internal static (BigInteger Low, BigInteger High) GridRange(DpAggregateSpec spec) => (ToGrid(spec.Lower, spec), ToGrid(spec.Upper, spec));

    internal static BigInteger GridMagnitude(DpAggregateSpec spec)
    {
        var magnitude = Math.Max(Math.Abs(spec.Lower), Math.Abs(spec.Upper));
        var grid = (Rational.FromDecimal(magnitude) / Rational.FromDecimal(spec.Granularity)).Ceiling();
        return BigInteger.Max(grid, BigInteger.One);
    }

    private static void Validate(IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        if (Check(aggregates, options) is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }
    }

    /// <summary>Null when the configuration is usable, else a one-line reason (the planner turns it into a refusal).</summary>
    internal static string? Check(IReadOnlyList<DpAggregateSpec> aggregates, DpOptions options)
    {
        if (options.Epsilon <= 0)
        {
            return "ε must be positive";
        }

        if (options.MaxGroupsContributed < 1)
        {
            return "max_groups_contributed must be at least 1";
        }

        if (options.PublicGroupKeys is null && options.Delta is <= 0 or >= 1)
        {
            return "private partition selection needs 0 < δ < 1";
        }

        if (options.Delta is < 0 or >= 1)
        {
            return "δ must lie in [0, 1)";
        }

        if (!CanonicalJson.IsExact(options.Epsilon) || !CanonicalJson.IsExact(options.Delta)
            || aggregates.Any(a => !CanonicalJson.IsExact(a.Lower) || !CanonicalJson.IsExact(a.Upper) || !CanonicalJson.IsExact(a.Granularity)))
        {
            return "ε, δ and every bound and granularity must have at most about 15 significant digits: the approved document's hash keeps no more, so it would also match a different value";
        }

        if (options.PublicGroupKeys is not null && aggregates.Count == 0)
        {
            return "with public groups the query needs at least one aggregate: the group list alone measures nothing";
        }

        foreach (var spec in aggregates)
        {
            if (spec.Lower > spec.Upper || spec.Granularity <= 0
                || Math.Abs(spec.Lower) > MaxBound || Math.Abs(spec.Upper) > MaxBound)
            {
                return $"aggregate {spec.Name}: need lower ≤ upper within ±1e27 and a positive granularity";
            }

            if (spec.Kind == DpAggregateKind.Count && spec.Lower < 0)
            {
                return $"aggregate {spec.Name}: a count's lower bound cannot be negative";
            }

            if (GridMagnitude(spec) > MaxGridBound)
            {
                return $"aggregate {spec.Name}: bounds / granularity exceed 1e30 grid steps";
            }
        }

        return null;
    }

    /// <summary>
    /// True when the grid of <paramref name="spec"/> allows the fast exact path: granularity a power of ten and at most 1e15
    /// grid steps per value, so decimal division is exact and sums fit an Int128 for any realistic row count.
    /// </summary>
    private static bool IsFastGrid(DpAggregateSpec spec)
    {
        if (GridMagnitude(spec) > FastGridLimit)
        {
            return false;
        }

        var g = spec.Granularity;
        for (var power = 1m; power <= 1e28m / 10m; power *= 10m)
        {
            if (g == power || g == 1m / power)
            {
                return true;
            }
        }

        return false;
    }

    private sealed class GroupTotals(int aggregateCount)
    {
        public BigInteger Units { get; set; }
        public BigInteger[] GridSums { get; } = Enumerable.Repeat(BigInteger.Zero, aggregateCount).ToArray();
        public Int128[] FastSums { get; } = new Int128[aggregateCount];

        public BigInteger Sum(int index) => GridSums[index] + (BigInteger)FastSums[index];
    }
}

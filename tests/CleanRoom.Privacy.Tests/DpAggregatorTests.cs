using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy.Tests;

public sealed class DpAggregatorTests
{
    // ε so large that discrete Laplace noise is 0 with overwhelming probability: isolates clamping and contribution bounds.
    private const decimal NoiselessEpsilon = 1_000_000m;

    [Fact]
    public void Heavy_hitter_is_clamped_to_the_upper_bound()
    {
        var rows = Enumerable.Range(0, 20).Select(i => new DpUnitRow($"u{i}", "g", [10d]))
            .Append(new DpUnitRow("whale", "g", [1e9]))
            .ToArray();
        var result = new DpAggregator(new SeededRandomSource(1)).Aggregate(
            rows, [new DpAggregateSpec("total", DpAggregateKind.Sum, 0m, 100m)], new DpOptions(NoiselessEpsilon, 0m, 1, ["g"]));

        Assert.Equal(300m, Assert.Single(result.Groups).Values[0]);
    }

    [Fact]
    public void Max_groups_contributed_limits_a_person_in_1000_groups_to_2()
    {
        var keys = Enumerable.Range(0, 1000).Select(i => $"g{i:D4}").ToArray();
        var rows = keys.Select(k => new DpUnitRow("busy", k, [1d])).ToArray();

        var result = new DpAggregator(new SeededRandomSource(2)).Aggregate(
            rows, [new DpAggregateSpec("n", DpAggregateKind.Count, 0m, 1m)], new DpOptions(NoiselessEpsilon, 0m, 2, keys));

        Assert.Equal(1000, result.Groups.Count);
        Assert.Equal(2m, result.Groups.Sum(g => g.Values[0]));
        Assert.Equal(2, result.Groups.Count(g => g.Values[0] == 1m));
    }

    [Fact]
    public void Unit_ordered_input_gives_the_same_totals_and_a_split_unit_is_refused()
    {
        var rows = new[] { new DpUnitRow("a", "g", [3d]), new DpUnitRow("a", "h", [4d]), new DpUnitRow("b", "g", [5d]) };
        DpAggregateSpec[] specs = [new("s", DpAggregateKind.Sum, 0m, 10m)];
        var options = new DpOptions(NoiselessEpsilon, 0m, 2, ["g", "h"]);

        var ordered = new DpAggregator(new SeededRandomSource(6)).AggregateOrderedByUnit(rows, specs, options);

        Assert.Equal([8m, 4m], ordered.Groups.Select(g => g.Values[0]));
        Assert.Throws<InvalidOperationException>(() =>
            new DpAggregator(new SeededRandomSource(6)).AggregateOrderedByUnit([rows[0], rows[2], rows[1]], specs, options));
    }

    [Fact]
    public void Kept_groups_are_chosen_at_random_not_by_order()
    {
        var keys = Enumerable.Range(0, 10).Select(i => $"g{i}").ToArray();
        var rows = keys.Select(k => new DpUnitRow("u", k, [1d])).ToArray();
        var aggregator = new DpAggregator(new SeededRandomSource(3));
        var chosen = new HashSet<string>();
        for (var run = 0; run < 50; run++)
        {
            var result = aggregator.Aggregate(rows, [new DpAggregateSpec("n", DpAggregateKind.Count, 0m, 1m)], new DpOptions(NoiselessEpsilon, 0m, 1, keys));
            chosen.Add(result.Groups.Single(g => g.Values[0] == 1m).GroupKey);
        }

        Assert.True(chosen.Count >= 8, $"only {chosen.Count} distinct groups kept in 50 runs");
    }

    [Fact]
    public void NaN_infinities_negative_zero_and_huge_values_give_finite_output()
    {
        double[] odd = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e308, -1e308, double.MaxValue, double.Epsilon];
        var rows = odd.Select((v, i) => new DpUnitRow($"u{i}", "g", [v, v, v])).ToArray();
        // Same unit twice with 1e308: the merged sum overflows to +∞ and must map to the bound, not throw.
        rows = [.. rows, new DpUnitRow("dup", "g", [1e308, 1e308, 1e308]), new DpUnitRow("dup", "g", [1e308, 1e308, 1e308])];

        var result = new DpAggregator(new SeededRandomSource(4)).Aggregate(
            rows,
            [
                new DpAggregateSpec("sum", DpAggregateKind.Sum, -50m, 100m),
                new DpAggregateSpec("avg", DpAggregateKind.Average, -50m, 100m, 0.01m),
                new DpAggregateSpec("n", DpAggregateKind.Count, 0m, 1m),
            ],
            new DpOptions(NoiselessEpsilon, 0m, 1, ["g"]));

        var values = Assert.Single(result.Groups).Values;
        // NaN→0, +∞→100, −∞→−50, −0→0, 1e308→100, −1e308→−50, MaxValue→100, ε→0, dup (+∞)→100.
        Assert.Equal(300m, values[0]);
        Assert.Equal(300m / 9m, values[1]);
        Assert.InRange(values[2], 0m, 9m);
    }

    [Fact]
    public void Single_person_group_is_released_no_more_often_than_delta()
    {
        const int trials = 2000;
        const decimal delta = 0.05m;
        var aggregator = new DpAggregator(new SeededRandomSource(5));
        var options = new DpOptions(1m, delta, 1);
        DpAggregateSpec[] specs = [new("people", DpAggregateKind.CountDistinctUnits, 0m, 1m)];

        var released = 0;
        for (var i = 0; i < trials; i++)
        {
            released += aggregator.Aggregate([new DpUnitRow("alone", "g", [1d])], specs, options).Groups.Count;
        }

        // P(release) ≤ δ by construction; allow for sampling error at a fixed seed.
        Assert.InRange(released, 0, (int)(trials * delta));

        // A crowd clears the same threshold essentially always.
        var crowd = Enumerable.Range(0, 200).Select(i => new DpUnitRow($"u{i}", "g", [1d])).ToArray();
        Assert.Single(aggregator.Aggregate(crowd, specs, options).Groups);
    }

    [Fact]
    public void Selection_threshold_covers_both_the_laplace_formula_and_the_discrete_tail()
    {
        // ε = 0.5, δ = 1e-5, L0 = 1: τ = 1 − ln(2e-5)/0.5 ≈ 22.6; the discrete tail needs T − 1 ≥ 22.07, so T = 24.
        Assert.Equal(24, PartitionSelection.Threshold(0.5, 1e-5, 1));
        var l0 = 3;
        var tau = l0 * (1 - (Math.Log(2 * 1e-6 / l0) / 0.2));
        Assert.True(PartitionSelection.Threshold(0.2, 1e-6, l0) >= Math.Ceiling(tau));
    }

    [Fact]
    public void Noise_of_each_aggregate_has_the_documented_scale()
    {
        // 20,000 empty public groups: each released value is pure noise. ε = 10 split in 5 shares (sum, count, avg twice,
        // unit count), so ε_share = 2; L0 = 2. Discrete Laplace scales in grid units (SECURITY.md, Sensitivity):
        // sum on [−1.5, 1] step 0.5: L0·⌈1.5/0.5⌉/ε_share = 3; count on [0, 2]: L0·2/ε_share = 2; unit count: L0/ε_share = 1.
        // The mean of |X| is checked against its exact value 2q/(1 − q²), q = e^(−1/t), within 6 standard errors
        // (false failure < 1e-8; a scale off by one grid unit, a missing L0 or a wrong share count is > 15 standard errors off).
        // Without this test no assertion depended on the noise scale at all (found in review).
        const int groups = 20_000;
        var keys = Enumerable.Range(0, groups).Select(i => $"g{i:D5}").ToArray();
        DpAggregateSpec[] specs =
        [
            new("sum", DpAggregateKind.Sum, -1.5m, 1m, 0.5m),
            new("n", DpAggregateKind.Count, 0m, 2m),
            new("mean", DpAggregateKind.Average, 0m, 1m),
            new("people", DpAggregateKind.CountDistinctUnits, 0m, 1m),
        ];

        var result = new DpAggregator(new SeededRandomSource(12)).Aggregate([], specs, new DpOptions(10m, 0m, 2, keys));

        Assert.Equal(groups, result.Groups.Count);
        AssertLaplaceScale(result.Groups.Select(g => (long)(g.Values[0] / 0.5m)).ToArray(), 3);
        AssertLaplaceScale(result.Groups.Select(g => (long)g.Values[1]).ToArray(), 2);
        AssertLaplaceScale(result.Groups.Select(g => (long)g.Values[3]).ToArray(), 1);
    }

    [Fact]
    public void Selection_noise_has_the_documented_scale()
    {
        // ε = 1 in 2 shares (unit count, selection), L0 = 1: selection noise scale L0/ε_share = 2, q = e^(−1/2).
        // Groups of 12 units under T = 14 are released with probability P(X ≥ 2) = q²/(1 + q) ≈ 0.229; checked within
        // 6 standard errors over 5,000 groups (a scale of 1 gives 0.099, a scale of 3 gives 0.320).
        const decimal epsilon = 1m;
        const decimal delta = 0.001m;
        const int groups = 5_000;
        const int units = 12;
        DpAggregateSpec[] specs = [new("people", DpAggregateKind.CountDistinctUnits, 0m, 1m)];
        var rows = Enumerable.Range(0, groups).SelectMany(g => Enumerable.Range(0, units).Select(u => new DpUnitRow($"u{g}-{u}", $"g{g}", [1d])));

        var result = new DpAggregator(new SeededRandomSource(13)).Aggregate(rows, specs, new DpOptions(epsilon, delta, 1));

        Assert.Equal(14, result.SelectionThreshold);
        var q = Math.Exp(-0.5);
        var p = q * q / (1 + q);
        var se = Math.Sqrt(p * (1 - p) / groups);
        Assert.InRange((double)result.Groups.Count / groups, p - (6 * se), p + (6 * se));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    public void Selection_threshold_bounds_the_release_of_up_to_L0_new_groups_by_delta(int l0)
    {
        // Exactly, for the discrete Laplace X of scale L0/ε actually added: L0 · P(1 + X ≥ T) = L0 · q^(T−1)/(1 + q) ≤ δ,
        // and T is at least the Laplace form ⌈L0 · (1 − ln(2δ/L0)/ε)⌉ of REFERENCE.md.
        foreach (var epsilon in new[] { 0.05, 0.3, 1.0, 2.5, 8.0 })
        {
            foreach (var delta in new[] { 1e-12, 1e-7, 1e-5, 0.01, 0.2 })
            {
                var t = PartitionSelection.Threshold(epsilon, delta, l0);
                var logTail = Math.Log(l0) + ((t - 1) * (-epsilon / l0)) - Math.Log(1 + Math.Exp(-epsilon / l0));
                Assert.True(logTail <= Math.Log(delta) + 1e-12, $"ε={epsilon} δ={delta} L0={l0}: T={t} releases a new group with probability e^{logTail} > δ/L0·L0");
                Assert.True(t >= Math.Ceiling(l0 * (1 - (Math.Log(2 * delta / l0) / epsilon)) - 1e-9), $"ε={epsilon} δ={delta} L0={l0}: T={t}");
            }
        }
    }

    private static void AssertLaplaceScale(long[] samples, double scale)
    {
        var q = Math.Exp(-1 / scale);
        var mean = 2 * q / (1 - (q * q));
        var secondMoment = 2 * q / ((1 - q) * (1 - q));
        var se = Math.Sqrt((secondMoment - (mean * mean)) / samples.Length);
        var observed = samples.Average(x => (double)Math.Abs(x));
        Assert.True(Math.Abs(observed - mean) <= 6 * se, $"mean |noise| {observed:F4}, expected {mean:F4} ± {6 * se:F4} for scale {scale}");
    }

    [Fact]
    public void Cost_and_threshold_are_reported()
    {
        var result = new DpAggregator(new SeededRandomSource(6)).Aggregate(
            [], [new DpAggregateSpec("s", DpAggregateKind.Sum, 0m, 1m), new DpAggregateSpec("a", DpAggregateKind.Average, 0m, 1m)],
            new DpOptions(1m, 1e-6m, 1));

        Assert.Empty(result.Groups);
        Assert.Equal(new PrivacyCost(1m, 1e-6m), result.Cost);
        // ε split in 4: sum, avg (sum + count), selection.
        Assert.Equal(PartitionSelection.Threshold(0.25, 1e-6, 1), result.SelectionThreshold);
    }

    [Fact]
    public void Public_groups_are_all_released_and_cost_no_delta()
    {
        var result = new DpAggregator(new SeededRandomSource(8)).Aggregate(
            [new DpUnitRow("u", "b", [5d])], [new DpAggregateSpec("s", DpAggregateKind.Sum, 0m, 10m)], new DpOptions(1m, 0m, 1, ["b", "a", "c"]));

        Assert.Equal(["a", "b", "c"], result.Groups.Select(g => g.GroupKey));
        Assert.Equal(0m, result.Cost.Delta);
        Assert.Null(result.SelectionThreshold);
    }

    [Theory]
    [InlineData(0.005, 0.01, 0)]
    [InlineData(0.015, 0.01, 2)]
    [InlineData(-0.015, 0.01, -2)]
    [InlineData(12.34, 0.01, 1234)]
    [InlineData(2.5, 1, 2)]
    [InlineData(3.5, 1, 4)]
    public void Values_are_rounded_to_the_grid_exactly(double value, double granularity, long expected)
    {
        var spec = new DpAggregateSpec("s", DpAggregateKind.Sum, -100m, 100m, (decimal)granularity);
        Assert.Equal(expected, (long)DpAggregator.ToGrid((decimal)value, spec));
    }

    [Fact]
    public void Saturating_conversion_never_throws()
    {
        Assert.Equal(decimal.MaxValue, DpAggregator.ToDecimal(System.Numerics.BigInteger.Pow(10, 40), 1m));
        Assert.Equal(decimal.MinValue, DpAggregator.ToDecimal(-System.Numerics.BigInteger.Pow(10, 40), 0.01m));
        Assert.Equal(12.34m, DpAggregator.ToDecimal(1234, 0.01m));
    }

    [Fact]
    public void Bad_configuration_is_rejected()
    {
        var aggregator = new DpAggregator(new SeededRandomSource(9));
        DpAggregateSpec[] specs = [new("s", DpAggregateKind.Sum, 0m, 1m)];
        Assert.Throws<ArgumentException>(() => aggregator.Aggregate([], specs, new DpOptions(0m, 1e-6m, 1)));
        Assert.Throws<ArgumentException>(() => aggregator.Aggregate([], specs, new DpOptions(1m, 0m, 1)));
        Assert.Throws<ArgumentException>(() => aggregator.Aggregate([], specs, new DpOptions(1m, 1e-6m, 0)));
        Assert.Throws<ArgumentException>(() => aggregator.Aggregate([], [new("s", DpAggregateKind.Sum, 2m, 1m)], new DpOptions(1m, 1e-6m, 1)));
    }
}

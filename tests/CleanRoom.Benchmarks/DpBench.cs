using System.Diagnostics;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Privacy;

namespace CleanRoom.Benchmarks;

/// <summary>
/// The demo query in dp mode vs aggregate mode over the same data, inside the enclave's sandbox: load (identical for both,
/// timed separately) → lock down → aggregate: threshold-rewritten SQL + k filter; dp: the job's path (private selection):
/// DuckDB runs the per-unit query, the L0 cap, clamping and grid sums, C# adds noise and selects. For comparison, the same
/// pipeline with the per-unit rows streamed through C# (the path of public groups), and the per-unit query alone (the floor
/// under any exact cap). Then noise samples per second.
/// </summary>
internal static class DpBench
{
    private static readonly string Sql = CleanRoom.Cli.DemoData.ConversionsSql;

    public static void RunQuery(TextWriter output, long rows, string workDirectory, int repetitions = 3)
    {
        Directory.CreateDirectory(workDirectory);
        var purchases = Path.Combine(workDirectory, $"dp-purchases-{rows}.parquet");
        var exposures = Path.Combine(workDirectory, $"dp-exposures-{rows}.parquet");
        DemoQueryBench.Generate(purchases, exposures, rows);

        var contract = new ContractDocument
        {
            Id = "bench",
            Title = "bench",
            Parties = [],
            Datasets = [CleanRoom.Cli.DemoData.Purchases, CleanRoom.Cli.DemoData.Exposures],
            ValidFrom = DateTimeOffset.UnixEpoch,
            ValidUntil = DateTimeOffset.MaxValue,
            AttestationPolicy = "simulated",
        };
        var computation = new ComputationDocument
        {
            Id = "bench-dp",
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
            Sql = Sql,
            Privacy = new PrivacySpec(PrivacySpec.DpMode) { Dp = CleanRoom.Cli.DemoData.ConversionsDp },
            Recipients = [],
            ProposedBy = "bench",
        };
        var catalog = ContractCatalog.From(contract);
        using var analyzer = new SqlAnalyzer();
        var analysis = analyzer.Analyze(Sql, catalog);
        var rewritten = ThresholdRewriter.Rewrite(Sql, analysis, catalog, analyzer);
        var plan = DpRewriter.Plan(contract, computation, analysis, analyzer);
        if (!plan.IsAllowed)
        {
            throw new InvalidOperationException("benchmark DP plan refused: " + plan.Reason);
        }

        var aggregateTimes = new List<double>();
        var dpTimes = new List<double>();
        var streamedTimes = new List<double>();
        var perUnitTimes = new List<double>();
        var loadTimes = new List<double>();
        int aggregateRows = 0, dpRows = 0, streamedRows = 0;
        for (var i = 0; i < repetitions; i++)
        {
            using (var sandbox = Load(purchases, exposures, loadTimes))
            {
                var sw = Stopwatch.StartNew();
                aggregateRows = EnclavePipeline.Execute(sandbox, rewritten, [], 10).Rows.Count;
                aggregateTimes.Add(sw.Elapsed.TotalSeconds);
            }

            using (var sandbox = Load(purchases, exposures, loadTimes))
            {
                // The job's path.
                var sw = Stopwatch.StartNew();
                dpRows = DpExecution.Execute(sandbox, plan, []).Rows.Count;
                dpTimes.Add(sw.Elapsed.TotalSeconds);
            }

            using (var sandbox = Load(purchases, exposures, loadTimes))
            {
                // The same pipeline streamed: per-unit rows ordered by unit, read one by one into the C# aggregator.
                var sw = Stopwatch.StartNew();
                sandbox.LockDown();
                streamedRows = plan.Release(sandbox.QueryRows(plan.PerUnitSql, []), CryptoRandomSource.Instance).Rows.Count;
                streamedTimes.Add(sw.Elapsed.TotalSeconds);
            }

            using (var sandbox = Load(purchases, exposures, loadTimes))
            {
                // A floor for any dp path: the per-unit query alone (one row per unit and group, every column read), with no
                // cap, clamp, sum, noise or selection after it.
                var sw = Stopwatch.StartNew();
                sandbox.LockDown();
                sandbox.Query(PerUnitFloorSql(plan), []);
                perUnitTimes.Add(sw.Elapsed.TotalSeconds);
            }
        }

        // The ratio is the median of each repetition's own dp/aggregate ratio (the two run one after the other), which a slow
        // drift of the machine's speed across repetitions moves far less than a ratio of the two medians.
        var ratios = dpTimes.Zip(aggregateTimes, (dp, aggregate) => dp / aggregate).ToList();
        var ratio = Median(ratios);
        var load = Median(loadTimes);
        var a = Median(aggregateTimes);
        var d = Median(dpTimes);
        var streamed = Median(streamedTimes);
        var perUnit = Median(perUnitTimes);
        output.WriteLine(
            $"dp vs aggregate, demo query, {rows:N0} rows per party: load {load:0.000} s (same for both) | aggregate query+threshold {a:0.000} s ({aggregateRows} groups) | " +
            $"dp {d:0.000} s ({dpRows} groups; cap, clamp and sums in DuckDB) | dp streamed through C# {streamed:0.000} s ({streamedRows} groups; the public-groups path) | " +
            $"ratio dp/aggregate {ratio:0.00}x query only (median of {repetitions} paired runs, {ratios.Min():0.00}–{ratios.Max():0.00}), {(load + d) / (load + a):0.00}x with load (of the medians) | " +
            $"per-unit query alone {perUnit:0.000} s = {perUnit / a:0.00}x aggregate (the floor under any exact cap)");
        foreach (var f in Directory.GetFiles(workDirectory, $"dp-*-{rows}.parquet"))
        {
            File.Delete(f);
        }
    }

    /// <summary>Counts the per-unit query's rows and its aggregate columns, without its ORDER BY (which only the streamed path needs).</summary>
    private static string PerUnitFloorSql(DpPlan plan)
    {
        var order = plan.PerUnitSql.LastIndexOf(" ORDER BY ", StringComparison.Ordinal);
        if (order < 0)
        {
            throw new InvalidOperationException("the per-unit query has no ORDER BY to drop");
        }

        return $"SELECT count(*), count(COLUMNS('^{DpRewriter.AggregateColumnPrefix}')) FROM ({plan.PerUnitSql[..order]}) AS __cr_per_unit";
    }

    public static void RunNoise(TextWriter output, int samples = 200_000)
    {
        foreach (var scale in new[] { 1, 100, 1_000_000 })
        {
            var laplace = Rate(samples, () => DiscreteLaplace.Sample(new Rational(scale, 1), CryptoRandomSource.Instance));
            var gaussian = Rate(samples / 4, () => DiscreteGaussian.Sample(new Rational((System.Numerics.BigInteger)scale * scale, 1), CryptoRandomSource.Instance));
            output.WriteLine($"noise, scale {scale:N0}: discrete Laplace {laplace:N0} samples/s | discrete Gaussian (σ = {scale:N0}) {gaussian:N0} samples/s (OS CSPRNG)");
        }
    }

    private static double Rate(int count, Func<System.Numerics.BigInteger> sample)
    {
        for (var i = 0; i < 1000; i++)
        {
            sample();
        }

        var sw = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            sample();
        }

        return count / sw.Elapsed.TotalSeconds;
    }

    private static SqlSandbox Load(string purchases, string exposures, List<double> loadTimes)
    {
        var sw = Stopwatch.StartNew();
        var sandbox = new SqlSandbox("8GB");
        sandbox.LoadParquet(CleanRoom.Cli.DemoData.Purchases, purchases);
        sandbox.LoadParquet(CleanRoom.Cli.DemoData.Exposures, exposures);
        loadTimes.Add(sw.Elapsed.TotalSeconds);
        return sandbox;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

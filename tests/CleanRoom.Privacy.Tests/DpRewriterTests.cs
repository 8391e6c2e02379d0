using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CleanRoom.Core;
using DuckDB.NET.Data;

namespace CleanRoom.Privacy.Tests;

/// <summary>The DP planner end to end on a real in-memory DuckDB: plan → per-unit SQL → DpAggregator.</summary>
public sealed class DpRewriterTests : IDisposable
{
    // So large that the discrete Laplace noise is 0 with overwhelming probability: isolates clamping and contribution bounds.
    private const decimal NoiselessEpsilon = 1_000_000_000_000m;

    private static readonly DatasetSchema Readings = new(
        "readings",
        [new("customer_id", "BIGINT"), new("site", "VARCHAR"), new("value", "DOUBLE")],
        "customer_id",
        ["customer_id"]);

    private static readonly SqlCatalog Catalog = new([TestCatalog.Customers, TestCatalog.Orders, Readings]);

    private readonly SqlAnalyzer _analyzer = new();
    private readonly DuckDBConnection _db = new("DataSource=:memory:");
    private readonly DpCapFunctions _cap;

    public DpRewriterTests()
    {
        _db.Open();
        _cap = RegisterSeededRanks(_db, seed: 11);
        Execute("CREATE TABLE customers (customer_id BIGINT, region VARCHAR, age BIGINT, signup DATE, email VARCHAR)");
        Execute("CREATE TABLE orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(18,2), category VARCHAR)");
        Execute("CREATE TABLE readings (customer_id BIGINT, site VARCHAR, value DOUBLE)");
    }

    public void Dispose()
    {
        _db.Dispose();
        _analyzer.Dispose();
    }

    [Fact]
    public void Per_unit_query_groups_by_unit_and_group_and_drops_null_units()
    {
        var plan = Plan("SELECT category, count(*) AS n, sum(amount) AS total FROM orders WHERE amount > 0 GROUP BY category ORDER BY category",
            Spec(bounds: [new("n", 0m, 5m), new("total", 0m, 100m)]));

        Assert.Contains("AS __cr_unit", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.Contains("GROUP BY orders.customer_id, category", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.Contains("IS NOT NULL", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.Contains("TRY(", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.DoesNotContain("ORDER BY category", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.EndsWith("ORDER BY __cr_unit", plan.PerUnitSql, StringComparison.Ordinal);
        Assert.Equal(["category", "n", "total"], plan.Columns);
        Assert.Contains("privacy mode dp: ε=1000000000000, δ=0.00001, max groups per unit=1", plan.Summary, StringComparison.Ordinal);
        Assert.Contains("partition selection private", plan.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Heavy_hitter_is_clamped_to_the_declared_bound_in_dp_mode()
    {
        Execute("INSERT INTO orders SELECT i, i, 10, 'x' FROM range(20) t(i)");
        Execute("INSERT INTO orders VALUES (999, 999, 1000000000, 'x')");

        var release = Release("SELECT category, sum(amount) AS total FROM orders GROUP BY category",
            Spec(bounds: [new("total", 0m, 100m)], publicGroups: [["x"]]));

        var row = Assert.Single(release.Rows);
        Assert.Equal("x", row[0]);
        Assert.Equal(20 * 10m + 100m, row[1]);
    }

    [Fact]
    public void Expression_inside_an_aggregate_is_clamped_after_the_expression()
    {
        // Each unit's amounts sum to 1.5 (three rows of 0.5): × 1e6 gives 1.5e6, clamped to the upper bound 1e6.
        // Clamping the amount before the multiplication would give 1.5e6 per unit instead.
        Execute("INSERT INTO orders SELECT i, i % 10, 0.5, 'x' FROM range(30) t(i)");

        var release = Release("SELECT category, sum(amount * 1e6) AS scaled FROM orders GROUP BY category",
            Spec(bounds: [new("scaled", 0m, 1_000_000m)], publicGroups: [["x"]]));

        Assert.Equal(10 * 1_000_000m, Assert.Single(release.Rows)[1]);
    }

    [Theory]
    [InlineData("SELECT region, count(*) AS n, sum(age) AS s FROM customers WHERE age * 4611686018427387904 > 5 GROUP BY region")]
    [InlineData("SELECT region, count(*) AS n, sum(age * 9223372036854775807) AS s FROM customers GROUP BY region")]
    [InlineData("SELECT region, count(*) AS n, avg(age * 9223372036854775807) AS s FROM customers GROUP BY region")]
    [InlineData("SELECT region, age * 9223372036854775807 AS scaled, count(*) AS n, sum(age) AS s FROM customers GROUP BY region, age * 9223372036854775807")]
    public void Error_oracle_in_dp_mode_overflow_on_one_persons_row_does_not_fail_the_run(string sql)
    {
        // Ten people of age 1, for whom every expression fits; the target's age 3 overflows BIGINT.
        var spec = Spec(bounds: [new("s", 0m, 100m), new("n", 0m, 1m)]);
        Execute("INSERT INTO customers SELECT i, 'north', 1, DATE '2020-01-01', 'e' FROM range(10) t(i)");
        var without = Release(sql, spec);
        Execute("INSERT INTO customers VALUES (999, 'north', 3, DATE '2020-01-01', 'target@example.com')");

        // The analyst's SQL as written fails only because the target's row exists: an error oracle.
        Assert.Throws<DuckDBException>(() => Run(sql, []));
        // The per-unit SQL completes either way; the target's overflowing value is NULL, never an error.
        var with = Release(sql, spec);
        Assert.NotEmpty(without.Rows);
        Assert.NotEmpty(with.Rows);
    }

    [Fact]
    public void NaN_infinities_negative_zero_and_1e308_in_a_value_column_give_finite_output_and_no_error()
    {
        Execute("""
            INSERT INTO readings VALUES
              (1, 's', 'nan'::DOUBLE), (2, 's', 'inf'::DOUBLE), (3, 's', '-inf'::DOUBLE), (4, 's', -0.0::DOUBLE),
              (5, 's', 1e308), (6, 's', -1e308), (7, 's', 1e308), (7, 's', 1e308), (8, 's', 10), (9, NULL, 'nan'::DOUBLE)
            """);

        var release = Release("SELECT site, sum(value) AS total, avg(value) AS mean, count(*) AS n FROM readings GROUP BY site",
            Spec(bounds: [new("total", -50m, 100m), new("mean", -50m, 100m, 0.01m), new("n", 0m, 2m)], publicGroups: [["s"], [null!]]));

        Assert.Equal(2, release.Rows.Count);
        foreach (var value in release.Rows.SelectMany(r => r.Skip(1)))
        {
            Assert.IsType<decimal>(value); // decimals are always finite
        }

        // Sorted by group value, NULL first. NaN→0, +∞→100, −∞→−50, −0→0, 1e308→100, −1e308→−50, unit 7 (+∞)→100, 10.
        Assert.Null(release.Rows[0][0]);
        Assert.Equal("s", release.Rows[1][0]);
        Assert.Equal(210m, release.Rows[1][1]);
        Assert.Equal(9m, release.Rows[1][3]);
        JsonSerializer.Serialize(release.Rows); // serializable as finite JSON numbers
    }

    [Fact]
    public void Avg_is_the_mean_of_each_units_own_mean()
    {
        // Unit 1: four rows of 1 (mean 1); unit 2: one row of 3 (mean 3). Over units: 2, not the row mean 7/5.
        Execute("INSERT INTO orders VALUES (1, 1, 1, 'x'), (2, 1, 1, 'x'), (3, 1, 1, 'x'), (4, 1, 1, 'x'), (5, 2, 3, 'x')");

        var release = Release("SELECT category, avg(amount) AS mean FROM orders GROUP BY category",
            Spec(bounds: [new("mean", 0m, 10m, 0.01m)], publicGroups: [["x"]]));

        Assert.Equal(2m, Assert.Single(release.Rows)[1]);
    }

    [Fact]
    public void Public_group_values_do_not_depend_on_whether_any_unit_is_in_the_group()
    {
        // Public groups 9 and 10 of a BIGINT column. The group values (their JSON and the row order) must be the same
        // whether or not one person of age 9 exists: they came back as the number 9 when someone was in the group and as
        // the string "9" when no one was, and the rows were then ordered by text ("10" before "9") instead of by number,
        // so the output revealed the person's presence with certainty (found in review).
        const string sql = "SELECT age, sum(age) AS s FROM customers GROUP BY age";
        var spec = Spec(bounds: [new("s", 0m, 100m)], publicGroups: [["9"], ["10"]]);
        Execute("INSERT INTO customers SELECT i, 'r', 10, DATE '2020-01-01', 'e' FROM range(5) t(i)");
        var without = Release(sql, spec);
        Execute("INSERT INTO customers VALUES (999, 'r', 9, DATE '2020-01-01', 'target@example.com')");
        var with = Release(sql, spec);

        Assert.Equal(
            JsonSerializer.Serialize(without.Rows.Select(r => r[0])),
            JsonSerializer.Serialize(with.Rows.Select(r => r[0])));
        Assert.Equal(9m, with.Rows.Single(r => r[1] is 9m)[1]);
    }

    [Fact]
    public void Null_units_never_contribute()
    {
        Execute("INSERT INTO customers SELECT i, 'r', 30, DATE '2020-01-01', 'e' FROM range(7) t(i)");
        Execute("INSERT INTO customers SELECT NULL, 'r', 30, DATE '2020-01-01', 'e' FROM range(50) t(i)");

        var release = Release("SELECT region, count(DISTINCT customer_id) AS people, count(*) AS n FROM customers GROUP BY region",
            Spec(bounds: [new("n", 0m, 1m)], publicGroups: [["r"]]));

        var row = Assert.Single(release.Rows);
        Assert.Equal(7m, row[1]);
        Assert.Equal(7m, row[2]);
    }

    [Theory]
    [InlineData(false, 4, false)]
    [InlineData(true, 4, false)]
    [InlineData(false, DpCapFunctions.MaxGroups, false)]
    [InlineData(false, DpCapFunctions.MaxGroups + 1, false)] // past the native aggregate's state: the window form
    [InlineData(true, DpCapFunctions.MaxGroups + 1, false)]
    [InlineData(false, 1, true)] // the cap indexed by unit value
    [InlineData(false, 4, true)]
    [InlineData(true, 4, true)]
    [InlineData(false, 5, true)]
    [InlineData(false, DpCapFunctions.MaxGroups, true)]
    public void DuckDB_keeps_exactly_min_of_a_units_groups_and_max_groups_contributed(bool tiedRandomBits, int l0, bool indexedByUnit)
    {
        // With tied random bits the counter below them still orders the ranks, so the cap stays exact.
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        var cap = RegisterSeededRanks(db, seed: 5, tiedRandomBits);
        DuckDbTestQueries.Execute(db, "CREATE TABLE readings (customer_id BIGINT, site VARCHAR, value DOUBLE)");
        // Unit u reads at (u % 23) + 1 sites, two rows at each; one person reads at 1,000 sites, also twice at each.
        DuckDbTestQueries.Execute(db, "INSERT INTO readings SELECT u, 's' || s, 1 FROM range(600) a(u), range(23) b(s), range(2) c(r) WHERE s <= u % 23");
        DuckDbTestQueries.Execute(db, "INSERT INTO readings SELECT 10000, 'busy' || s, 1 FROM range(1000) b(s), range(2) c(r)");
        var plan = Plan("SELECT site, count(*) AS n FROM readings GROUP BY site", Spec(bounds: [new("n", 0m, 5m)]) with { MaxGroupsContributed = l0 });
        Assert.Equal(l0 <= DpCapFunctions.MaxGroups, plan.UnitIndexedTotalsSql is not null);
        if (indexedByUnit)
        {
            var range = DuckDbTestQueries.Query(db, plan.UnitRangeSql!, []).Rows.Single();
            Assert.Equal([0L, 10000L], range);
            Assert.True(cap.IndexUnits((long)range[0]!, (long)range[1]!, l0, fill: SeededFill(5, tiedRandomBits)));
        }

        var sql = indexedByUnit ? plan.UnitIndexedTotalsSql! : plan.TotalsSql!;
        var totals = DuckDbTestQueries.Query(db, sql, []).Rows;

        // The ranks are read twice; drawn twice (an inlined CTE), a unit could keep more than L0 groups.
        Assert.Contains("AS MATERIALIZED", sql, StringComparison.Ordinal);
        long Units(bool busy) => totals.Where(r => ((string)r[0]!).StartsWith("busy", StringComparison.Ordinal) == busy).Sum(r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture));
        Assert.Equal(l0 <= DpCapFunctions.MaxGroups && !indexedByUnit, sql.Contains(DpCapFunctions.TopFunction, StringComparison.Ordinal));
        Assert.Equal(indexedByUnit, sql.Contains(DpCapFunctions.KeepFunction, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 600).Sum(u => Math.Min((u % 23) + 1, l0)), Units(busy: false));
        Assert.Equal(l0, Units(busy: true));
        Assert.All(totals, r => Assert.Equal(2 * Convert.ToInt64(r[1], CultureInfo.InvariantCulture), (long)(BigInteger)r[2]!)); // each kept unit counts its 2 rows
    }

    [Theory]
    [InlineData(4)]
    [InlineData(DpCapFunctions.MaxGroups + 1)] // the window form
    public void DuckDB_caps_a_double_unit_as_group_by_sees_it_with_negative_zero_and_nan_spellings(int l0)
    {
        // GROUP BY makes one unit of 0.0 and −0.0, and one of every NaN. The cut's window and its join back must see the
        // same units: split in two, each half would keep L0 groups of its own.
        var sensors = new DatasetSchema("sensors", [new("device", "DOUBLE"), new("site", "VARCHAR")], "device", ["device"]);
        var catalog = new SqlCatalog([sensors]);
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        RegisterSeededRanks(db, seed: 3);
        DuckDbTestQueries.Execute(db, "CREATE TABLE sensors (device DOUBLE, site VARCHAR)");
        // Each spelling reads at w sites of its own, with w chosen so no spelling alone reaches L0 but every unit passes it.
        var w = (l0 + 2) / 2;
        DuckDbTestQueries.Execute(db, $"""
            INSERT INTO sensors SELECT d, prefix || (s + o * {w}) FROM (VALUES (0.0::DOUBLE, 'z', 0), ((-0.0)::DOUBLE, 'z', 1),
              ('nan'::DOUBLE, 'n', 0), ('-nan'::DOUBLE, 'n', 1), (-('nan'::DOUBLE), 'n', 2), (1.5::DOUBLE, 'b', 0), (1.5::DOUBLE, 'b', 1)) v(d, prefix, o),
              range({w}) t(s), range(2) r(k)
            """);
        const string sql = "SELECT site, count(*) AS n FROM sensors GROUP BY site";
        var analysis = _analyzer.Analyze(sql, catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var plan = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 0m, 5m)]) with { MaxGroupsContributed = l0 }, catalog, _analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);

        var totals = DuckDbTestQueries.Query(db, plan.TotalsSql!, []).Rows;

        long Units(string prefix) => totals.Where(r => ((string)r[0]!).StartsWith(prefix, StringComparison.Ordinal)).Sum(r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture));
        Assert.Equal(l0, Units("z")); // 0.0 and −0.0: one unit, 2w sites
        Assert.Equal(l0, Units("n")); // three NaN spellings: one unit, 3w sites
        Assert.Equal(l0, Units("b")); // 1.5: 2w sites
        Assert.All(totals, r => Assert.Equal(2 * Convert.ToInt64(r[1], CultureInfo.InvariantCulture), (long)(BigInteger)r[2]!));
    }

    [Fact]
    public void DuckDB_totals_and_the_streamed_pipeline_release_the_same_rows_when_no_unit_is_capped()
    {
        // Up to 3 sites per unit under a cap of 3; odd values, NULL sites and values, non-power-of-ten grids; no noise.
        Execute("""
            INSERT INTO readings SELECT u, CASE WHEN s = 2 AND u % 5 = 0 THEN NULL ELSE 's' || s END,
              CASE u % 11 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE WHEN 3 THEN NULL WHEN 4 THEN 1e308 ELSE ((u * 37 + s * 11) % 400) / 4.0 - 30 END
            FROM range(400) a(u), range(3) b(s), range(2) c(r) WHERE s <= u % 3
            """);
        var plan = Plan(
            "SELECT site, count(*) AS n, sum(value) AS total, avg(value) AS mean, count(DISTINCT customer_id) AS people FROM readings GROUP BY site",
            Spec(bounds: [new("n", 0m, 3m), new("total", -50m, 100m, 0.01m), new("mean", -20m, 40m, 0.25m)]) with { MaxGroupsContributed = 3 });

        var inDuckDb = plan.ReleaseTotals(Run(plan.TotalsSql!, []), new SeededRandomSource(1));
        var streamed = plan.Release(Run(plan.PerUnitSql, []), new SeededRandomSource(1));

        Assert.Equal(4, inDuckDb.Rows.Count);
        Assert.Equal(JsonSerializer.Serialize(streamed.Rows), JsonSerializer.Serialize(inDuckDb.Rows));
        Assert.Equal(streamed.Cost, inDuckDb.Cost);
        var indexed = plan.ReleaseTotals(RunIndexedByUnit(plan, []), new SeededRandomSource(1));
        Assert.Equal(JsonSerializer.Serialize(streamed.Rows), JsonSerializer.Serialize(indexed.Rows));
    }

    [Fact]
    public void The_unit_range_is_the_unit_tables_own_and_there_is_no_indexed_form_without_totals_or_beyond_the_slots()
    {
        const string sql = "SELECT o.category, count(*) AS n FROM orders o JOIN customers c ON o.customer_id = c.customer_id GROUP BY o.category";
        Execute("INSERT INTO customers VALUES (-3, 'n', 1, NULL, NULL), (7, 'n', 1, NULL, NULL), (NULL, 'n', 1, NULL, NULL)");
        Execute("INSERT INTO orders VALUES (1, 100, 1.00, 'a'), (2, -50, 1.00, 'a')");

        var customers = Plan(sql, Spec(bounds: [new("n", 0m, 5m)]) with { UnitTable = "customers" });
        var orders = Plan(sql, Spec(bounds: [new("n", 0m, 5m)]) with { UnitTable = "orders" });

        Assert.Equal([-3L, 7L], Assert.Single(Run(customers.UnitRangeSql!, [])));
        Assert.Equal([-50L, 100L], Assert.Single(Run(orders.UnitRangeSql!, [])));
        Assert.Null(Plan(sql, Spec(bounds: [new("n", 0m, 5m)], publicGroups: [["a"]])).UnitRangeSql);
        var wide = Plan(sql, Spec(bounds: [new("n", 0m, 5m)]) with { MaxGroupsContributed = DpCapFunctions.MaxGroups + 1 });
        Assert.NotNull(wide.TotalsSql);
        Assert.Null(wide.UnitIndexedTotalsSql);
        Assert.Null(wide.UnitRangeSql);
    }

    [Fact]
    public void A_query_without_group_by_releases_one_row_and_nothing_when_no_unit_is_left()
    {
        const string sql = "SELECT count(*) AS n, sum(value) AS total FROM readings WHERE value > 0";
        var spec = Spec(bounds: [new("n", 0m, 2m), new("total", 0m, 10m)]);

        var empty = Release(sql, spec);
        Execute("INSERT INTO readings SELECT i, 's', 4 FROM range(30) t(i)");
        var filled = Release(sql, spec);

        Assert.Empty(empty.Rows);
        var row = Assert.Single(filled.Rows);
        Assert.Equal([30m, 120m], row);
    }

    [Theory]
    [InlineData("1000000000000000")] // ≤ 2^53 grid steps: rounded in DpCapFunctions' grid function
    [InlineData("9007199254740992")] // 2^53 steps, the grid function's limit
    [InlineData("10000000000000000")] // beyond 2^53, where sums are split: rounded by DuckDB's round_even
    public void DuckDB_rounds_per_unit_values_onto_the_grid_half_to_even(string bound)
    {
        // One unit per site, so each site's sum is one unit's grid value.
        double[] values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4999, -0.0, 562949953421312.5, -562949953421313.5, 7];
        Execute("INSERT INTO readings VALUES " + string.Join(", ", values.Select((v, i) => string.Create(CultureInfo.InvariantCulture, $"({i}, 's{i}', {v:R}::DOUBLE)"))));
        var limit = decimal.Parse(bound, CultureInfo.InvariantCulture);
        var plan = Plan("SELECT site, sum(value) AS total FROM readings GROUP BY site", Spec(bounds: [new("total", -limit, limit)]));

        var split = limit > DpCapFunctions.MaxGridValue;
        Assert.Equal(split, plan.TotalsSql!.Contains("__cr_h0", StringComparison.Ordinal));
        Assert.Equal(!split, plan.TotalsSql.Contains(DpCapFunctions.GridFunction, StringComparison.Ordinal));
        var sums = Run(plan.TotalsSql, []).ToDictionary(r => (string)r[0]!, r => (long)(split ? ((BigInteger)r[2]! << 64) + (BigInteger)r[3]! : (BigInteger)r[2]!));

        Assert.Equal(
            values.Select((v, i) => ("s" + i.ToString(CultureInfo.InvariantCulture), (long)Math.Round(v, MidpointRounding.ToEven))).OrderBy(p => p.Item1, StringComparer.Ordinal),
            sums.Select(p => (p.Key, p.Value)).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(562949953421312L, sums["s8"]); // 2^49 + 0.5: to the even neighbour below
        Assert.Equal(-562949953421314L, sums["s9"]); // −(2^49 + 1.5): to the even neighbour beyond
    }

    [Fact]
    public void DuckDB_sums_grid_values_beyond_2_to_the_53_exactly()
    {
        // Bounds of 1e20 on a grid of 1: each value is split at 2^64 and the parts summed apart, so the total is exact
        // where a DOUBLE sum (or one HUGEINT sum of ~1e38-sized values at scale) would not be.
        Execute("INSERT INTO readings VALUES (1, 's', 1e20), (2, 's', 1e20), (3, 's', 5e20), (4, 's', 12345), (5, 's', -3)");
        var plan = Plan("SELECT site, sum(value) AS total FROM readings GROUP BY site", Spec(bounds: [new("total", 0m, 100_000_000_000_000_000_000m)]));

        var row = Assert.Single(Run(plan.TotalsSql!, []));

        Assert.Contains("__cr_h0", plan.TotalsSql, StringComparison.Ordinal);
        Assert.Equal(5L, Convert.ToInt64(row[1], CultureInfo.InvariantCulture));
        Assert.Equal(BigInteger.Parse("300000000000000012345", CultureInfo.InvariantCulture), ((BigInteger)row[2]! << 64) + (BigInteger)row[3]!);
    }

    [Fact]
    public void Group_values_keep_their_types_and_parameters_are_bound()
    {
        Execute("INSERT INTO customers SELECT i, CASE WHEN i < 40 THEN 'north' ELSE 'south' END, 20 + i % 3, DATE '2020-01-01', 'e' FROM range(60) t(i)");
        var specs = new[] { new QueryParameterSpec("region", "VARCHAR", ["north", "south"], null, null) };
        const string sql = "SELECT age, count(*) AS n FROM customers WHERE region = $region GROUP BY age";
        var analysis = _analyzer.Analyze(sql, Catalog, specs);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var plan = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 0m, 1m)]), Catalog, _analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);

        var bound = ParameterBinder.Validate(new Dictionary<string, string> { ["region"] = "north" }, specs);
        var release = Release(plan, bound.Parameters);

        Assert.Equal([20L, 21L, 22L], release.Rows.Select(r => (long)r[0]!));
        Assert.Equal(40m, release.Rows.Sum(r => (decimal)r[1]!));
    }

    [Theory]
    [InlineData("SELECT category, min(amount) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, max(amount) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, count(amount) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, count(DISTINCT order_id) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, sum(amount) * 2 AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, sum(amount) FILTER (WHERE amount > 1) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.DpUnsupported)]
    [InlineData("SELECT category, sum(amount) AS m FROM orders GROUP BY category", "other", PrivacyErrorCodes.BadSpec)]
    [InlineData("SELECT category, sum(amount) AS total FROM orders GROUP BY category", "m", PrivacyErrorCodes.BadSpec)]
    [InlineData("SELECT category, count(DISTINCT customer_id) AS m FROM orders GROUP BY category", "m", PrivacyErrorCodes.BadSpec)]
    public void Unsupported_dp_queries_and_bounds_are_refused_with_a_stable_code(string sql, string boundColumn, string code)
    {
        var analysis = _analyzer.Analyze(sql, Catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);

        var plan = DpRewriter.Plan(sql, analysis, Spec(bounds: [new(boundColumn, 0m, 1m)]), Catalog, _analyzer);

        Assert.False(plan.IsAllowed);
        Assert.Equal(code, plan.ErrorCode);
        Assert.DoesNotContain('\n', plan.Reason!);
    }

    [Fact]
    public void A_unit_table_the_query_does_not_read_and_misshapen_public_groups_are_refused()
    {
        const string sql = "SELECT category, count(*) AS n FROM orders GROUP BY category";
        var analysis = _analyzer.Analyze(sql, Catalog);

        var unitTable = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 0m, 1m)]) with { UnitTable = "customers" }, Catalog, _analyzer);
        var publicGroups = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 0m, 1m)], publicGroups: [["x", "y"]]), Catalog, _analyzer);
        var badBound = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 5m, 1m)]), Catalog, _analyzer);

        Assert.Equal(PrivacyErrorCodes.BadSpec, unitTable.ErrorCode);
        Assert.Contains("customers", unitTable.Reason, StringComparison.Ordinal);
        Assert.Equal(PrivacyErrorCodes.BadSpec, publicGroups.ErrorCode);
        Assert.Equal(PrivacyErrorCodes.BadSpec, badBound.ErrorCode);
    }

    [Fact]
    public void A_query_of_public_groups_alone_without_an_aggregate_is_refused()
    {
        // It measured nothing and its release divided ε by zero shares (found in review).
        const string sql = "SELECT category FROM orders GROUP BY category";
        var analysis = _analyzer.Analyze(sql, Catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);

        var plan = DpRewriter.Plan(sql, analysis, Spec(bounds: [], publicGroups: [["books"]]), Catalog, _analyzer);

        Assert.Equal(PrivacyErrorCodes.BadSpec, plan.ErrorCode);
        Assert.Contains("at least one aggregate", plan.Reason, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DpAggregator(new SeededRandomSource(1)).Aggregate([], [], new DpOptions(1m, 0m, 1, ["books"])));
    }

    [Theory]
    [InlineData("0.10000000000000000001", "0", "100")]
    [InlineData("1", "0", "100000000000000000001")]
    [InlineData("1", "0.10000000000000000001", "100")]
    public void Dp_parameters_with_more_digits_than_the_signed_document_keeps_are_refused(string epsilon, string lower, string upper)
    {
        // The approved computation's hash (canonical JSON numbers are doubles) would also match a different value (found in review).
        const string sql = "SELECT category, sum(amount) AS total FROM orders GROUP BY category";
        var analysis = _analyzer.Analyze(sql, Catalog);
        var spec = Spec(bounds: [new("total", decimal.Parse(lower, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(upper, System.Globalization.CultureInfo.InvariantCulture))])
            with { Epsilon = decimal.Parse(epsilon, System.Globalization.CultureInfo.InvariantCulture) };

        var plan = DpRewriter.Plan(sql, analysis, spec, Catalog, _analyzer);

        Assert.Equal(PrivacyErrorCodes.BadSpec, plan.ErrorCode);
        Assert.Contains("significant digits", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_join_bounds_each_unit_of_the_named_unit_table()
    {
        // One customer with 50 orders: with orders' unit (same customer ids) the person still adds at most 1 to n.
        Execute("INSERT INTO customers SELECT i, 'r', 30, DATE '2020-01-01', 'e' FROM range(5) t(i)");
        Execute("INSERT INTO orders SELECT i, 0, 1, 'x' FROM range(50) t(i)");
        const string sql = "SELECT c.region, count(*) AS n FROM customers c JOIN orders o ON c.customer_id = o.customer_id GROUP BY c.region";

        var release = Release(sql, Spec(bounds: [new("n", 0m, 1m)], publicGroups: [["r"]]) with { UnitTable = "orders" });

        Assert.Equal(1m, Assert.Single(release.Rows)[1]);
    }

    [Fact]
    public void A_self_join_of_the_unit_table_is_refused_since_a_persons_row_would_change_other_units_values()
    {
        // people joins on zip, a declared join column that is not the unit. In "people a JOIN people b ON a.zip = b.zip"
        // with unit a.customer_id, a person's row on the b side adds a row to every other unit of the same zip, so one
        // person changed n by far more than the sensitivity L0 · 5 the noise was calibrated for (found in review).
        var people = new DatasetSchema("people", [new("customer_id", "BIGINT"), new("zip", "VARCHAR")], "customer_id", ["customer_id", "zip"]);
        var catalog = new SqlCatalog([people]);
        const string sql = "SELECT a.zip, count(*) AS n FROM people a JOIN people b ON a.zip = b.zip GROUP BY a.zip";
        var analysis = _analyzer.Analyze(sql, catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);

        var plan = DpRewriter.Plan(sql, analysis, Spec(bounds: [new("n", 0m, 5m)], publicGroups: [["z"]]), catalog, _analyzer);

        if (plan.IsAllowed)
        {
            // Four people in zip z each have 4 joined rows (n = 16); a fifth person makes it 5 × 5 = 25: a change of 9 > 5.
            Execute("CREATE TABLE people (customer_id BIGINT, zip VARCHAR)");
            Execute("INSERT INTO people SELECT i, 'z' FROM range(4) t(i)");
            var without = (decimal)Assert.Single(Release(plan, []).Rows)[1]!;
            Execute("INSERT INTO people VALUES (999, 'z')");
            var with = (decimal)Assert.Single(Release(plan, []).Rows)[1]!;
            Assert.True(with - without <= 5m, $"one person changed n from {without} to {with}, beyond the sensitivity 5");
        }

        Assert.Equal(PrivacyErrorCodes.DpUnsupported, plan.ErrorCode);
    }

    [Fact]
    public void A_dp_computation_reading_a_dataset_without_a_budget_is_refused()
    {
        const string sql = "SELECT category, count(*) AS n FROM orders GROUP BY category";
        var orders = new DatasetDeclaration
        {
            Name = "orders",
            Owner = "shop",
            Columns = TestCatalog.Orders.Columns.Select(c => new DatasetColumn(c.Name, c.Type)).ToList(),
            PrivacyUnit = "customer_id",
        };
        var contract = new ContractDocument
        {
            Id = "c",
            Title = "t",
            Parties = [],
            Datasets = [orders],
            ValidFrom = DateTimeOffset.UnixEpoch,
            ValidUntil = DateTimeOffset.MaxValue,
            AttestationPolicy = "simulated",
        };
        var computation = new ComputationDocument
        {
            Id = "x",
            ContractId = "c",
            ContractHash = contract.Hash(),
            Sql = sql,
            Privacy = new PrivacySpec(PrivacySpec.DpMode) { Dp = Spec(bounds: [new("n", 0m, 1m)]) },
            Recipients = [],
            ProposedBy = "shop",
        };
        var analysis = _analyzer.Analyze(sql, ContractCatalog.From(contract));

        var unfunded = DpRewriter.Plan(contract, computation, analysis, _analyzer);
        var funded = DpRewriter.Plan(contract with { Datasets = [orders with { Budget = new PrivacyBudget(1m, 0.001m) }] }, computation, analysis, _analyzer);

        Assert.Equal(PrivacyErrorCodes.NoBudget, unfunded.ErrorCode);
        Assert.Contains("orders", unfunded.Reason, StringComparison.Ordinal);
        Assert.True(funded.IsAllowed, funded.Reason);
    }

    private static DpSpec Spec(IReadOnlyList<DpColumnBound> bounds, IReadOnlyList<IReadOnlyList<string>>? publicGroups = null) => new()
    {
        Epsilon = NoiselessEpsilon,
        Delta = publicGroups is null ? 0.00001m : 0m,
        MaxGroupsContributed = 1,
        Bounds = bounds,
        PublicGroups = publicGroups,
    };

    private DpPlan Plan(string sql, DpSpec spec)
    {
        var analysis = _analyzer.Analyze(sql, Catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var plan = DpRewriter.Plan(sql, analysis, spec, Catalog, _analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);
        return plan;
    }

    /// <summary>As the enclave runs a plan: DuckDB caps and sums with private selection, the C# pipeline streams with public groups.</summary>
    private DpRelease Release(string sql, DpSpec spec) => Release(Plan(sql, spec), []);

    private DpRelease Release(DpPlan plan, IReadOnlyList<BoundParameter> parameters) => plan.TotalsSql is { } totals
        ? plan.ReleaseTotals(Run(totals, parameters), new SeededRandomSource(7))
        : plan.Release(Run(plan.PerUnitSql, parameters), new SeededRandomSource(7));

    /// <summary>
    /// The contract of <see cref="DpPlan.RandomFunction"/> (random high 32 bits over a counter) from a seeded generator, so
    /// tests are reproducible; the enclave registers the CSPRNG one (SqlSandbox.EnableDpRandom, tested there).
    /// </summary>
    private static DpCapFunctions RegisterSeededRanks(DuckDBConnection db, int seed, bool constantRandomBits = false)
    {
        var random = new Random(seed);
        ulong counter = 0;
        db.RegisterScalarFunction<ulong>(DpPlan.RandomFunction, (writer, count) =>
        {
            lock (random)
            {
                for (ulong i = 0; i < count; i++)
                {
                    var high = constantRandomBits ? 7UL : (ulong)(uint)random.Next();
                    writer.WriteValue((high << 32) | counter++, i);
                }
            }
        }, new ScalarFunctionOptions { IsPureFunction = false });
        return DpCapFunctions.Register(db);
    }

    /// <summary>The ranks' random bits for the unit index, seeded (or all equal) as <see cref="RegisterSeededRanks"/> draws them.</summary>
    private static Action<Span<byte>> SeededFill(int seed, bool constantRandomBits = false)
    {
        var random = new Random(seed);
        return bytes =>
        {
            if (constantRandomBits)
            {
                bytes.Fill(7);
                return;
            }

            lock (random)
            {
                random.NextBytes(bytes);
            }
        };
    }

    /// <summary>As the enclave runs <see cref="DpPlan.UnitIndexedTotalsSql"/>: the index sized from <see cref="DpPlan.UnitRangeSql"/> first.</summary>
    private List<object?[]> RunIndexedByUnit(DpPlan plan, IReadOnlyList<BoundParameter> parameters)
    {
        _cap.Reset();
        var range = DuckDbTestQueries.Query(_db, plan.UnitRangeSql!, []).Rows.Single();
        Assert.True(_cap.IndexUnits((long)range[0]!, (long)range[1]!, plan.Options.MaxGroupsContributed, fill: SeededFill(11)));
        return DuckDbTestQueries.Query(_db, plan.UnitIndexedTotalsSql!, parameters).Rows;
    }

    private List<object?[]> Run(string sql, IReadOnlyList<BoundParameter> parameters)
    {
        _cap.Reset(); // as SqlSandbox.EnableDpRandom does before each statement that caps
        return DuckDbTestQueries.Query(_db, sql, parameters).Rows;
    }

    private void Execute(string sql) => DuckDbTestQueries.Execute(_db, sql);
}

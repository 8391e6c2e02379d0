using System.Globalization;
using DuckDB.NET.Data;
using Xunit;

namespace CleanRoom.Privacy.Tests;

public sealed class DpCapFunctionsTests : IDisposable
{
    private readonly DuckDBConnection _db = new("DataSource=:memory:");
    private readonly DpCapFunctions _cap;

    public DpCapFunctionsTests()
    {
        _db.Open();
        _cap = DpCapFunctions.Register(_db);
        DuckDbTestQueries.Execute(_db, "CREATE TABLE ranked AS SELECT * FROM (VALUES (1, 10::UBIGINT), (1, 5::UBIGINT), (1, 7::UBIGINT), (2, 3::UBIGINT), (3, 12::UBIGINT), (3, 4::UBIGINT)) v(u, r)");
    }

    public void Dispose() => _db.Dispose();

    [Fact]
    public void The_aggregate_marks_each_units_lowest_ranks_and_the_test_reads_them()
    {
        var marked = Query("SELECT u, __cr_cap_top2(r) FROM ranked GROUP BY u ORDER BY u");

        Assert.Equal([2L, 1L, 2L], marked.Select(row => Convert.ToInt64(row[1], CultureInfo.InvariantCulture)));
        var kept = Query("SELECT r, __cr_cap_kept(r, CAST(5 AS BIGINT)) FROM ranked ORDER BY r");
        Assert.Equal([3UL, 4UL, 5UL, 7UL, 10UL, 12UL], kept.Select(row => Convert.ToUInt64(row[0], CultureInfo.InvariantCulture)));
        Assert.Equal([true, true, true, true, false, true], kept.Select(row => (bool)row[1]!));
    }

    [Fact]
    public void The_test_fails_the_statement_unless_every_mark_is_in()
    {
        // Read before the aggregate ran (0 marks, 5 expected), or with a total the aggregate did not return: refused, never a guess.
        var early = Assert.Throws<DuckDBException>(() => Query("SELECT __cr_cap_kept(r, CAST(5 AS BIGINT)) FROM ranked"));
        Assert.Contains("before every unit was capped", early.Message, StringComparison.Ordinal);
        Query("SELECT __cr_cap_top2(r) FROM ranked GROUP BY u");
        Assert.Throws<DuckDBException>(() => Query("SELECT __cr_cap_kept(r, CAST(4 AS BIGINT)) FROM ranked"));
    }

    [Fact]
    public void Marks_are_forgotten_only_by_reset_and_a_rank_marked_twice_fails()
    {
        Query("SELECT __cr_cap_top1(r) FROM ranked GROUP BY u");

        var again = Assert.Throws<DuckDBException>(() => Query("SELECT __cr_cap_top1(r) FROM ranked GROUP BY u"));
        Assert.Contains("marked twice", again.Message, StringComparison.Ordinal);
        _cap.Reset();
        Assert.All(Query("SELECT __cr_cap_kept(r, CAST(0 AS BIGINT)) FROM ranked"), row => Assert.False((bool)row[0]!));
        Assert.Equal(3, Query("SELECT __cr_cap_top1(r) FROM ranked GROUP BY u").Count);
    }

    [Theory]
    [InlineData("SELECT __cr_cap_top2(CASE WHEN r = 5 THEN NULL ELSE r END) FROM ranked GROUP BY u", "NULL")]
    [InlineData("SELECT __cr_cap_top2(CASE WHEN r = 5 THEN 18446744073709551615::UBIGINT ELSE r END) FROM ranked GROUP BY u", "out of range")] // the empty slot
    public void The_aggregate_refuses_null_and_out_of_range_ranks(string sql, string reason)
    {
        var error = Assert.Throws<DuckDBException>(() => Query(sql));

        Assert.Contains("DP cap failed", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(DpCapFunctions.MaxGroups + 1)]
    public void There_is_no_aggregate_for_an_l0_out_of_range(int l0)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DpCapFunctions.TopFor(l0));
        Assert.Throws<DuckDBException>(() => Query($"SELECT __cr_cap_top{l0}(r) FROM ranked GROUP BY u"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)] // the last 4-slot state
    [InlineData(5)] // the first 16-slot one
    [InlineData(13)]
    [InlineData(DpCapFunctions.MaxGroups)]
    public void Each_aggregate_marks_exactly_its_l0_lowest_ranks_of_every_unit(int l0)
    {
        // Three units of 40, 7 and 1 ranks, each rank distinct and in scrambled order; DuckDB's window says which are lowest.
        DuckDbTestQueries.Execute(_db, "CREATE TABLE many AS SELECT CASE WHEN i < 40 THEN 1 WHEN i < 47 THEN 2 ELSE 3 END AS u, (i * 7919 % 48)::UBIGINT AS r FROM range(48) t(i)");

        var marked = Query($"SELECT u, {DpCapFunctions.TopFor(l0)}(r) FROM many GROUP BY u ORDER BY u");
        var kept = Query($"SELECT r FROM many WHERE __cr_cap_kept(r, CAST({Math.Min(40, l0) + Math.Min(7, l0) + 1} AS BIGINT)) ORDER BY r");
        var lowest = Query($"SELECT r FROM many QUALIFY row_number() OVER (PARTITION BY u ORDER BY r) <= {l0} ORDER BY r");

        Assert.Equal(DpCapFunctions.TopFunction + l0.ToString(CultureInfo.InvariantCulture), DpCapFunctions.TopFor(l0));
        Assert.Equal([Math.Min(40L, l0), Math.Min(7L, l0), 1L], marked.Select(row => Convert.ToInt64(row[1], CultureInfo.InvariantCulture)));
        Assert.Equal(lowest.Select(row => Convert.ToUInt64(row[0], CultureInfo.InvariantCulture)), kept.Select(row => Convert.ToUInt64(row[0], CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("NULL", 0)]
    [InlineData("'nan'", 0)]
    [InlineData("'-nan'", 0)]
    [InlineData("'inf'", 500)]
    [InlineData("'-inf'", -200)]
    [InlineData("1e308", 500)]
    [InlineData("-1e308", -200)]
    [InlineData("-0.0", 0)]
    [InlineData("0.125", 12)] // 12.5 grid steps: ties go to the even neighbour
    [InlineData("0.135", 14)] // 13.5
    [InlineData("-0.125", -12)]
    [InlineData("-0.135", -14)]
    [InlineData("0.126", 13)]
    [InlineData("4.999", 500)]
    [InlineData("5.001", 500)] // clamped to the upper bound before the grid
    [InlineData("-2.5", -200)] // and to the lower
    public void The_grid_function_maps_clamps_and_rounds_half_to_even(string value, long grid)
    {
        // Bounds [−2, 5] on a grid of 0.01: grid values in [−200, 500].
        var row = Assert.Single(Query($"SELECT __cr_cap_grid(CAST({value} AS DOUBLE), -2.0::DOUBLE, 5.0::DOUBLE, 0.01::DOUBLE, -200::BIGINT, 500::BIGINT)"));

        Assert.Equal(grid, Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_grid_function_agrees_with_the_same_steps_in_duckdb_expressions()
    {
        // A million values across sign, scale and ties, on grids that do and do not divide them exactly; the expression is the
        // one the totals query uses beyond 2^53 grid steps.
        var disagreements = Query("""
            WITH v AS (SELECT CASE i % 4 WHEN 0 THEN (random() - 0.5) * 2e4 WHEN 1 THEN round((random() - 0.5) * 2e4, 2)
                WHEN 2 THEN (floor((random() - 0.5) * 4e6) + 0.5) / 200 ELSE (random() - 0.5) * 1e17 END AS x,
                [0.01, 0.25, 1.0, 0.1][((i // 4) % 4) + 1]::DOUBLE AS g FROM range(1000000) t(i))
            SELECT count(*) FROM v WHERE __cr_cap_grid(x, -7000.0::DOUBLE, 9000.0::DOUBLE, g, CAST(round_even(-7000.0 / g, 0) AS BIGINT), CAST(round_even(9000.0 / g, 0) AS BIGINT))
              <> least(greatest(CAST(round_even(least(greatest(coalesce(nullif(x, 'nan'::DOUBLE), 0.0), -7000.0::DOUBLE), 9000.0::DOUBLE) / g, 0) AS BIGINT),
                CAST(round_even(-7000.0 / g, 0) AS BIGINT)), CAST(round_even(9000.0 / g, 0) AS BIGINT))
            """);

        Assert.Equal(0L, Convert.ToInt64(Assert.Single(disagreements)[0], CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("NULL::DOUBLE, 5.0::DOUBLE, 0.01::DOUBLE, -200::BIGINT, 500::BIGINT")]
    [InlineData("-2.0::DOUBLE, 5.0::DOUBLE, 0.01::DOUBLE, NULL::BIGINT, 500::BIGINT")]
    [InlineData("-2.0::DOUBLE, 5.0::DOUBLE, 0.0::DOUBLE, -200::BIGINT, 500::BIGINT")] // no grid
    [InlineData("-2.0::DOUBLE, 5.0::DOUBLE, -0.01::DOUBLE, -200::BIGINT, 500::BIGINT")]
    [InlineData("5.0::DOUBLE, -2.0::DOUBLE, 0.01::DOUBLE, -200::BIGINT, 500::BIGINT")] // bounds the wrong way round
    [InlineData("-2.0::DOUBLE, 5.0::DOUBLE, 0.01::DOUBLE, 500::BIGINT, -200::BIGINT")]
    [InlineData("'-inf'::DOUBLE, 5.0::DOUBLE, 0.01::DOUBLE, -200::BIGINT, 500::BIGINT")]
    [InlineData("-2.0::DOUBLE, 'nan'::DOUBLE, 0.01::DOUBLE, -200::BIGINT, 500::BIGINT")]
    [InlineData("-2.0::DOUBLE, 5.0::DOUBLE, 'inf'::DOUBLE, -200::BIGINT, 500::BIGINT")]
    [InlineData("0.0::DOUBLE, 1e17::DOUBLE, 1.0::DOUBLE, 0::BIGINT, 100000000000000000::BIGINT")] // beyond 2^53 grid steps
    public void The_grid_function_refuses_bounds_it_cannot_hold(string bounds)
    {
        var error = Assert.Throws<DuckDBException>(() => Query($"SELECT __cr_cap_grid(x, {bounds}) FROM (VALUES (1.0::DOUBLE), (2.0::DOUBLE)) v(x)"));

        Assert.Contains("DP clamp failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_rank_function_draws_distinct_ranks_and_fails_rather_than_repeat_one()
    {
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        DpCapFunctions.RegisterRandom(db, limit: 5000);

        // Over several vectors: the low 32 bits count on across them and statements, the high 32 bits are random.
        var first = Assert.Single(DuckDbTestQueries.Query(db, $"SELECT count(DISTINCT r), max(r & 4294967295), count(DISTINCT r >> 32) FROM (SELECT {DpPlan.RandomFunction}() AS r FROM range(4000))", []).Rows);
        var second = Assert.Single(DuckDbTestQueries.Query(db, $"SELECT min(r & 4294967295), max(r & 4294967295) FROM (SELECT {DpPlan.RandomFunction}() AS r FROM range(1000))", []).Rows);
        var beyond = Assert.Throws<DuckDBException>(() => DuckDbTestQueries.Query(db, $"SELECT {DpPlan.RandomFunction}()", []));

        Assert.Equal(4000L, Convert.ToInt64(first[0], CultureInfo.InvariantCulture));
        Assert.Equal(3999L, Convert.ToInt64(first[1], CultureInfo.InvariantCulture));
        Assert.True(Convert.ToInt64(first[2], CultureInfo.InvariantCulture) > 3990); // 4,000 draws from 2^32 rarely repeat
        Assert.Equal([4000L, 4999L], second.Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)));
        Assert.Contains("DP rank failed", beyond.Message, StringComparison.Ordinal);
    }

    private List<object?[]> Query(string sql) => DuckDbTestQueries.Query(_db, sql, []).Rows;
}

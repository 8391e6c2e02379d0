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
        var marked = Query("SELECT u, __cr_cap_top4(r, CAST(2 AS BIGINT)) FROM ranked GROUP BY u ORDER BY u");

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
        Query("SELECT __cr_cap_top4(r, CAST(2 AS BIGINT)) FROM ranked GROUP BY u");
        Assert.Throws<DuckDBException>(() => Query("SELECT __cr_cap_kept(r, CAST(4 AS BIGINT)) FROM ranked"));
    }

    [Fact]
    public void Marks_are_forgotten_only_by_reset_and_a_rank_marked_twice_fails()
    {
        Query("SELECT __cr_cap_top4(r, CAST(1 AS BIGINT)) FROM ranked GROUP BY u");

        var again = Assert.Throws<DuckDBException>(() => Query("SELECT __cr_cap_top4(r, CAST(1 AS BIGINT)) FROM ranked GROUP BY u"));
        Assert.Contains("marked twice", again.Message, StringComparison.Ordinal);
        _cap.Reset();
        Assert.All(Query("SELECT __cr_cap_kept(r, CAST(0 AS BIGINT)) FROM ranked"), row => Assert.False((bool)row[0]!));
        Assert.Equal(3, Query("SELECT __cr_cap_top4(r, CAST(1 AS BIGINT)) FROM ranked GROUP BY u").Count);
    }

    [Theory]
    [InlineData("SELECT __cr_cap_top4(r, CAST(0 AS BIGINT)) FROM ranked GROUP BY u")]
    [InlineData("SELECT __cr_cap_top4(r, CAST(5 AS BIGINT)) FROM ranked GROUP BY u")] // beyond this aggregate's state
    [InlineData("SELECT __cr_cap_top16(r, CAST(17 AS BIGINT)) FROM ranked GROUP BY u")] // beyond every state (MaxGroups)
    [InlineData("SELECT __cr_cap_top4(CASE WHEN r = 5 THEN NULL ELSE r END, CAST(2 AS BIGINT)) FROM ranked GROUP BY u")]
    public void The_aggregate_refuses_an_l0_it_cannot_hold_and_null_ranks(string sql)
    {
        var error = Assert.Throws<DuckDBException>(() => Query(sql));
        Assert.Contains("DP cap failed", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "__cr_cap_top4")]
    [InlineData(4, "__cr_cap_top4")]
    [InlineData(5, "__cr_cap_top16")]
    [InlineData(DpCapFunctions.MaxGroups, "__cr_cap_top16")]
    public void Each_l0_gets_the_smallest_state_that_holds_it(int l0, string name) => Assert.Equal(name, DpCapFunctions.TopFor(l0));

    [Fact]
    public void The_larger_state_marks_the_same_ranks()
    {
        Query("SELECT __cr_cap_top16(r, CAST(2 AS BIGINT)) FROM ranked GROUP BY u");

        var kept = Query("SELECT r FROM ranked WHERE __cr_cap_kept(r, CAST(5 AS BIGINT)) ORDER BY r");
        Assert.Equal([3UL, 4UL, 5UL, 7UL, 12UL], kept.Select(row => Convert.ToUInt64(row[0], CultureInfo.InvariantCulture)));
    }

    private List<object?[]> Query(string sql) => DuckDbTestQueries.Query(_db, sql, []).Rows;
}

using System.Globalization;
using DuckDB.NET.Data;
using Xunit;

namespace CleanRoom.Privacy.Tests;

/// <summary>The cap indexed by unit value: <c>__cr_cap_rank</c> and <c>__cr_cap_keep</c> (<see cref="DpCapFunctions.IndexUnits(long, long, int)"/>).</summary>
public sealed class DpUnitIndexTests : IDisposable
{
    // Ranked once, read twice: the shape DpPlan.UnitIndexedTotalsSql has.
    private const string Kept = """
        WITH ranked AS MATERIALIZED (SELECT u, __cr_cap_rank(u) AS r FROM units), n AS MATERIALIZED (SELECT count(*) AS c FROM ranked)
        SELECT u, r, __cr_cap_keep(u, r, c, {0}) AS kept, row_number() OVER (PARTITION BY u ORDER BY r) <= {0} AS lowest FROM ranked CROSS JOIN n
        """;

    private readonly DuckDBConnection _db = new("DataSource=:memory:");
    private readonly DpCapFunctions _cap;

    public DpUnitIndexTests()
    {
        _db.Open();
        _cap = DpCapFunctions.Register(_db);
    }

    public void Dispose() => _db.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)] // the last 4-slot index
    [InlineData(5)] // the first 16-slot one
    [InlineData(13)]
    [InlineData(DpCapFunctions.MaxGroups)]
    public void Each_unit_keeps_exactly_its_l0_lowest_ranks(int l0)
    {
        // Units from −500 to 49,499 (a negative minimum), unit u with 1 + (u mod 23) rows: 0.6M rows, enough for DuckDB to
        // rank them on several threads at once, so rows of one unit race for its slots.
        Execute("CREATE TABLE units AS SELECT u FROM range(-500, 49500) a(u), range(23) b(k) WHERE k <= ((u % 23) + 23) % 23");
        Assert.True(_cap.IndexUnits(-500, 49_499, l0));

        var rows = Query(string.Format(CultureInfo.InvariantCulture, Kept, l0));

        Assert.Equal(Enumerable.Range(-500, 50_000).Sum(u => 1 + (((u % 23) + 23) % 23)), rows.Count);
        Assert.All(rows, row => Assert.Equal((bool)row[3]!, (bool)row[2]!));
        var perUnit = rows.Where(row => (bool)row[2]!).GroupBy(row => (long)row[0]!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(50_000, perUnit.Count);
        Assert.All(perUnit, unit => Assert.Equal(Math.Min(1 + (int)(((unit.Key % 23) + 23) % 23), l0), unit.Value));
        Assert.Equal(rows.Count, rows.Select(row => (ulong)row[1]!).Distinct().Count());
    }

    [Fact]
    public void Ties_of_the_random_bits_are_broken_by_the_counter_and_the_cap_stays_exact()
    {
        Execute("CREATE TABLE units AS SELECT u FROM range(0, 300) a(u), range(9) b(k)");
        Assert.True(_cap.IndexUnits(0, 299, 4, fill: bytes => bytes.Fill(7)));

        var rows = Query(string.Format(CultureInfo.InvariantCulture, Kept, 4));

        Assert.All(rows, row => Assert.Equal((bool)row[3]!, (bool)row[2]!));
        Assert.Equal(300 * 4, rows.Count(row => (bool)row[2]!));
    }

    [Fact]
    public void Which_groups_a_unit_keeps_is_uniform()
    {
        // One unit with 8 rows, L0 = 2, ranked 4,000 times: every row is kept with probability 1/4.
        Execute("CREATE TABLE units AS SELECT 42 AS u, k FROM range(8) b(k)");
        var kept = new int[8];
        const int runs = 4_000;
        for (var run = 0; run < runs; run++)
        {
            _cap.Reset();
            Assert.True(_cap.IndexUnits(42, 42, 2));
            foreach (var row in Query("""
                WITH ranked AS MATERIALIZED (SELECT k, __cr_cap_rank(u) AS r, u FROM units), n AS MATERIALIZED (SELECT count(*) AS c FROM ranked)
                SELECT k FROM ranked CROSS JOIN n WHERE __cr_cap_keep(u, r, c, 2)
                """))
            {
                kept[(long)row[0]!]++;
            }
        }

        Assert.Equal(2 * runs, kept.Sum());
        // Each count is Binomial(4000, 1/4): mean 1000, sd ≈ 27.4; 6 sd either side fails about once in 10^8 runs.
        Assert.All(kept, count => Assert.InRange(count, 836, 1164));
    }

    [Theory]
    [InlineData(4, 8L << 20)] // 32-byte units: 256 MiB
    [InlineData(5, 2L << 20)] // 128-byte units
    public void The_index_takes_ranges_up_to_its_memory_bound_and_no_wider(int l0, long units)
    {
        Assert.False(_cap.IndexUnits(1, units + 1, l0));
        Assert.True(_cap.IndexUnits(-1, units - 2, l0));
        Assert.False(_cap.IndexUnits(long.MinValue, long.MaxValue, l0)); // no overflow in the width
        Assert.False(_cap.IndexUnits(0, 0, DpCapFunctions.MaxGroups + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _cap.IndexUnits(5, 4, l0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _cap.IndexUnits(0, 1, 0));
    }

    [Fact]
    public void A_refused_index_leaves_none_behind()
    {
        Execute("CREATE TABLE units AS SELECT 1 AS u");
        Assert.True(_cap.IndexUnits(0, 10, 1));

        Assert.False(_cap.IndexUnits(0, long.MaxValue, 1));

        AssertFails("SELECT __cr_cap_rank(u) FROM units", "no unit range was set");
    }

    [Theory]
    [InlineData("SELECT __cr_cap_rank(u) FROM units", "no unit range was set")]
    [InlineData("SELECT __cr_cap_keep(u, 1::UBIGINT, 0, 1) FROM units", "no unit range was set")]
    public void Without_an_index_both_functions_fail_the_statement(string sql, string reason)
    {
        Execute("CREATE TABLE units AS SELECT 1 AS u");

        AssertFails(sql, reason);
        Assert.True(_cap.IndexUnits(0, 10, 1));
        _cap.Reset(); // forgets the index too
        AssertFails(sql, reason);
    }

    [Theory]
    [InlineData("SELECT __cr_cap_rank(u) FROM units", "DP rank failed: a DP unit lies outside the range")] // 10, above
    [InlineData("SELECT __cr_cap_rank(u - 1) FROM units WHERE u < 10", "DP rank failed: a DP unit lies outside the range")] // −1, below
    [InlineData("SELECT __cr_cap_rank(CASE WHEN u = 5 THEN NULL ELSE u END) FROM units WHERE u < 10", "DP rank failed: a DP unit is NULL")]
    [InlineData("SELECT __cr_cap_keep(u, 1::UBIGINT, 0, 2) FROM units WHERE u < 10", "DP cap failed: L0 is not the one")]
    [InlineData("SELECT __cr_cap_keep(u, 1::UBIGINT, 5, 1) FROM units WHERE u < 10", "DP cap failed: the kept ranks were read before every unit was capped")]
    [InlineData("SELECT __cr_cap_keep(u, 1::UBIGINT, 0, 1) FROM units", "DP cap failed: a DP unit lies outside the range")]
    [InlineData("SELECT __cr_cap_keep(u - 1, 1::UBIGINT, 0, 1) FROM units WHERE u < 10", "DP cap failed: a DP unit lies outside the range")]
    [InlineData("SELECT __cr_cap_keep(u, CASE WHEN u = 5 THEN NULL ELSE 1::UBIGINT END, 0, 1) FROM units WHERE u < 10", "DP cap failed: a DP unit, rank, row count or L0 is NULL")]
    public void Units_outside_the_range_nulls_a_wrong_l0_and_an_early_read_fail_the_statement(string sql, string reason)
    {
        Execute("CREATE TABLE units AS SELECT u FROM range(0, 11) a(u)");
        Assert.True(_cap.IndexUnits(0, 9, 1));

        AssertFails(sql, reason);
    }

    [Fact]
    public void The_rank_counter_fails_the_statement_rather_than_repeat_a_rank()
    {
        Execute("CREATE TABLE units AS SELECT u % 7 AS u FROM range(3000) a(u)");
        Assert.True(_cap.IndexUnits(0, 6, 2, fill: null, rankLimit: 5_000));

        Assert.Equal(3000, Query("SELECT __cr_cap_rank(u) FROM units").Count);
        AssertFails("SELECT __cr_cap_rank(u) FROM units", "more DP ranks than one sandbox may draw");
    }

    private void AssertFails(string sql, string reason)
    {
        var error = Assert.Throws<DuckDBException>(() => Query(sql));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    private List<object?[]> Query(string sql) => DuckDbTestQueries.Query(_db, sql, []).Rows;

    private void Execute(string sql) => DuckDbTestQueries.Execute(_db, sql);
}

using System.Globalization;
using System.Text;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Privacy;
using DuckDB.NET.Data;

namespace CleanRoom.Enclave.Tests;

public sealed class SqlSandboxTests
{
    private static readonly DatasetDeclaration s_purchases = new()
    {
        Name = "purchases",
        Owner = "retailer",
        Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR"), new("amount", "DECIMAL(18,2)")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
    };

    private static SqlSandbox LoadedSandbox()
    {
        var sandbox = new SqlSandbox("512MB");
        using var file = MemoryFile.Create("test");
        using (var w = file.OpenWrite())
        {
            w.Write(Encoding.UTF8.GetBytes("customer_id,category,amount\n1,toys,10.50\n2,toys,3.25\n3,books,7.00\n"));
        }

        Assert.Equal(3, sandbox.LoadCsv(s_purchases, file.Path));
        return sandbox;
    }

    [Fact]
    public void Csv_in_an_in_memory_file_loads_with_the_declared_types()
    {
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        var (columns, rows) = sandbox.Query("SELECT category, sum(amount) AS s FROM purchases GROUP BY category ORDER BY category", []);
        Assert.Equal(["category", "s"], columns);
        Assert.Equal("books", rows[0][0]);
        Assert.Equal(13.75m, rows[1][1]);
    }

    [Fact]
    public void The_memory_file_path_is_not_on_a_disk_file_system()
    {
        using var file = MemoryFile.Create("probe");
        var target = new FileInfo(file.Path).LinkTarget ?? string.Empty;
        Assert.StartsWith("/memfd:", target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_the_token_interrupts_the_query_in_flight()
    {
        using var sandbox = new SqlSandbox("512MB");
        sandbox.LockDown();
        using var cts = new CancellationTokenSource();
        using var interrupt = sandbox.InterruptOn(cts.Token);

        // Tens of billions of rows: minutes of work, so only an interrupt ends it within the test's patience.
        var query = Task.Run(() => sandbox.Query("SELECT sum(hash(a.range)) FROM range(50000000000) AS a", []));
        while (!sandbox.IsStatementRunning && !query.IsCompleted)
        {
            await Task.Yield();
        }

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(SqlSandbox.InterruptedMessage, ex.Message);
        Assert.Throws<OperationCanceledException>(() => sandbox.Query("SELECT 1", []));
    }

    [Fact]
    public async Task Cancelling_the_token_interrupts_a_streamed_dp_query_in_flight()
    {
        using var sandbox = new SqlSandbox("512MB");
        sandbox.LockDown();
        using var cts = new CancellationTokenSource();
        using var interrupt = sandbox.InterruptOn(cts.Token);

        // The DP path with public groups streams its per-unit rows; the same minutes-long statement, read through QueryRows.
        var query = Task.Run(() => sandbox.QueryRows("SELECT sum(hash(a.range)) FROM range(50000000000) AS a", []).Count());
        while (!sandbox.IsStatementRunning && !query.IsCompleted)
        {
            await Task.Yield();
        }

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(SqlSandbox.InterruptedMessage, ex.Message);
        Assert.False(sandbox.IsStatementRunning);
    }

    [Fact]
    public async Task An_interrupt_that_lands_before_the_engine_has_begun_the_statement_is_not_lost()
    {
        // Cancelling the moment the statement is published, before DuckDB has begun it: the engine clears an early interrupt
        // when a query starts, so a single interrupt could be lost and the query would run on for minutes.
        for (var i = 0; i < 25; i++)
        {
            using var sandbox = new SqlSandbox("256MB");
            sandbox.LockDown();
            using var cts = new CancellationTokenSource();
            using var interrupt = sandbox.InterruptOn(cts.Token);
            var query = Task.Run(() => sandbox.Query("SELECT sum(hash(a.range)) FROM range(50000000000) AS a", []));
            while (!sandbox.IsStatementRunning && !query.IsCompleted)
            {
                Thread.SpinWait(1);
            }

            cts.Cancel();
            var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query.WaitAsync(TimeSpan.FromMinutes(1)));
            Assert.Equal(SqlSandbox.InterruptedMessage, ex.Message);
        }
    }

    [Fact]
    public void A_cancellation_stops_a_stream_between_rows()
    {
        using var sandbox = new SqlSandbox("512MB");
        sandbox.LockDown();
        using var cts = new CancellationTokenSource();
        using var interrupt = sandbox.InterruptOn(cts.Token);

        using var rows = sandbox.QueryRows("SELECT range FROM range(100000)", []).GetEnumerator();
        Assert.True(rows.MoveNext());
        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => rows.MoveNext());
    }

    [Fact]
    public void Queries_are_refused_before_lock_down()
    {
        using var sandbox = LoadedSandbox();
        Assert.Throws<InvalidOperationException>(() => sandbox.Query("SELECT 1", []));
    }

    [Theory]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')")]
    [InlineData("SELECT * FROM read_text('/etc/hostname')")]
    [InlineData("COPY purchases TO '/tmp/cleanroom-leak.csv'")]
    [InlineData("ATTACH '/tmp/cleanroom-leak.db' AS leak")]
    [InlineData("SET enable_external_access = true")]
    [InlineData("SET memory_limit = '100GB'")]
    [InlineData("SET lock_configuration = false")]
    [InlineData("INSTALL httpfs")]
    [InlineData("LOAD httpfs")]
    [InlineData("SET temp_directory = '/tmp'")]
    public void After_lock_down_file_access_configuration_and_extensions_are_refused(string sql)
    {
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        Assert.ThrowsAny<DuckDBException>(() => sandbox.Exec(sql));
        Assert.False(File.Exists("/tmp/cleanroom-leak.csv"));
    }

    [Fact]
    public void A_decimal_beyond_the_range_of_dotnet_decimal_is_read_exactly_as_text_instead_of_failing_the_read()
    {
        // Every output row is read before the k filter: a value that failed the read would fail the job even in a suppressed group.
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        const string sql = """
            SELECT CAST('1000000000000000000000000000000' AS DECIMAL(38,0)) AS a, CAST('-12345678901234567890123456789012.34' AS DECIMAL(38,2)) AS b,
                   CAST('12.50' AS DECIMAL(38,2)) AS c
            """;

        var (_, rows) = sandbox.Query(sql, []);
        var streamed = sandbox.QueryRows(sql, []).Single();

        object?[] expected = ["1000000000000000000000000000000", "-12345678901234567890123456789012.34", 12.50m];
        Assert.Equal(expected, Assert.Single(rows));
        Assert.Equal(expected, streamed);
    }

    [Fact]
    public void Dates_and_timestamps_outside_the_range_of_dotnet_are_read_exactly_as_text_instead_of_failing_the_read()
    {
        // DuckDB.NET throws on ±infinity and on years beyond 9999; every row is read before the k filter or partition selection.
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        const string sql = """
            SELECT TRY_CAST('infinity' AS DATE) AS a, TRY_CAST('-infinity' AS DATE) AS b, TRY_CAST('20000-01-01' AS DATE) AS c,
                   TRY_CAST('infinity' AS TIMESTAMP) AS d, TRY_CAST('20000-02-03 04:05:06.007008' AS TIMESTAMP) AS e,
                   DATE '2026-11-29' AS f
            """;

        var (_, rows) = sandbox.Query(sql, []);
        var streamed = sandbox.QueryRows(sql, []).Single();

        object?[] expected = ["infinity", "-infinity", "20000-01-01", "infinity", "20000-02-03 04:05:06.007008", Assert.Single(rows)[5]];
        Assert.Equal(expected, Assert.Single(rows));
        Assert.Equal(expected, streamed);
        Assert.IsNotType<string>(expected[5]); // a value .NET can hold keeps its type
    }

    [Theory]
    [InlineData(-5, 2, "-0.05")]
    [InlineData(5, 0, "5")]
    [InlineData(123450, 2, "1234.50")]
    [InlineData(-100, 3, "-0.100")]
    public void Decimal_text_places_the_point_by_the_scale(long unscaled, byte scale, string text) =>
        Assert.Equal(text, SqlSandbox.DecimalText(new DuckDB.NET.Native.DuckDBDecimal(38, scale, new DuckDB.NET.Native.DuckDBHugeInt(unscaled))));

    [Fact]
    public void Each_enable_forgets_the_caps_marks_so_a_sandbox_can_cap_twice()
    {
        using var sandbox = LoadedSandbox();
        sandbox.EnableDpRandom();
        sandbox.LockDown();
        var sql = $"""
            WITH r AS MATERIALIZED (SELECT i % 3 AS u, {DpPlan.RandomFunction}() AS rank FROM range(30) t(i)),
              m AS MATERIALIZED (SELECT CAST(sum(k) AS BIGINT) AS total FROM (SELECT {DpCapFunctions.TopFor(4)}(rank) AS k FROM r GROUP BY u))
            SELECT count(*) FROM r CROSS JOIN m WHERE {DpCapFunctions.KeptFunction}(rank, total)
            """;

        var first = sandbox.Query(sql, []).Rows;
        var stale = Assert.Throws<DuckDBException>(() => sandbox.Query(sql, [])); // 12 marks already in, 12 more expected
        sandbox.EnableDpRandom();
        var second = sandbox.Query(sql, []).Rows;

        Assert.Equal(12L, Convert.ToInt64(Assert.Single(first)[0], CultureInfo.InvariantCulture));
        Assert.Contains("DP cap failed", stale.Message, StringComparison.Ordinal);
        Assert.Equal(12L, Convert.ToInt64(Assert.Single(second)[0], CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("TINYINT", "-5", "100", true)]
    [InlineData("SMALLINT", "-5", "100", true)]
    [InlineData("INTEGER", "-5", "100", true)]
    [InlineData("BIGINT", "-5", "100", true)]
    [InlineData("UTINYINT", "0", "100", true)]
    [InlineData("USMALLINT", "0", "100", true)]
    [InlineData("UINTEGER", "4294967000", "4294967295", true)]
    [InlineData("UBIGINT", "0", "100", true)]
    [InlineData("UBIGINT", "9223372036854775800", "9223372036854775808", false)] // beyond BIGINT, which the functions take
    [InlineData("HUGEINT", "0", "100", false)]
    [InlineData("DOUBLE", "0", "100", false)]
    [InlineData("DECIMAL(18,2)", "0", "100", false)]
    [InlineData("VARCHAR", "0", "100", false)]
    [InlineData("BIGINT", "0", "1099511627776", false)] // 2^40 units: far beyond the index's memory bound
    [InlineData("BIGINT", "NULL", "NULL", false)] // no unit at all
    public void The_unit_index_is_sized_only_from_an_integer_range_it_can_hold(string type, string min, string max, bool expected)
    {
        using var sandbox = LoadedSandbox();
        sandbox.EnableDpRandom();
        sandbox.LockDown();
        var range = $"SELECT min(u), max(u) FROM (VALUES (CAST({min} AS {type})), (CAST({max} AS {type}))) t(u)";
        const string capped = """
            WITH r AS MATERIALIZED (SELECT i % 7 AS u, __cr_cap_rank(i % 7) AS rank FROM range(70) t(i)), n AS MATERIALIZED (SELECT count(*) AS c FROM r)
            SELECT count(*) FROM r CROSS JOIN n WHERE __cr_cap_keep(u, rank, c, 3)
            """;

        Assert.Equal(expected, sandbox.IndexDpUnits(range, 3));

        if (!expected)
        {
            var error = Assert.Throws<DuckDBException>(() => sandbox.Query(capped, []));
            Assert.Contains("no unit range was set", error.Message, StringComparison.Ordinal);
        }
        else if (type != "UINTEGER") // the capped query's units 0 … 6 lie within every other range here
        {
            Assert.Equal(21L, Convert.ToInt64(Assert.Single(sandbox.Query(capped, []).Rows)[0], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void The_unit_index_needs_the_dp_functions_and_each_enable_forgets_it()
    {
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        const string range = "SELECT min(customer_id), max(customer_id) FROM purchases";

        Assert.Throws<InvalidOperationException>(() => sandbox.IndexDpUnits(range, 1));
        sandbox.EnableDpRandom();
        Assert.True(sandbox.IndexDpUnits(range, 1));
        Assert.Single(sandbox.Query("SELECT __cr_cap_rank(customer_id) FROM purchases WHERE customer_id = 2", []).Rows);
        sandbox.EnableDpRandom();
        var error = Assert.Throws<DuckDBException>(() => sandbox.Query("SELECT __cr_cap_rank(customer_id) FROM purchases", []));
        Assert.Contains("no unit range was set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dp_rank_function_gives_distinct_random_ranks_after_lock_down()
    {
        using var sandbox = LoadedSandbox();
        sandbox.EnableDpRandom();
        sandbox.EnableDpRandom(); // idempotent
        sandbox.LockDown();

        var (_, rows) = sandbox.Query($"SELECT count(*), count(DISTINCT r), count(DISTINCT r >> 32), min(r >> 32), max(r >> 32) FROM (SELECT {DpPlan.RandomFunction}() AS r FROM range(100000))", []);

        var row = Assert.Single(rows);
        Assert.Equal(100_000L, Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        Assert.Equal(100_000L, Convert.ToInt64(row[1], CultureInfo.InvariantCulture)); // the counter makes every rank distinct
        // The high 32 bits are random: 100,000 draws from 2^32 repeat a value about once and span the range.
        Assert.True(Convert.ToInt64(row[2], CultureInfo.InvariantCulture) > 99_900);
        Assert.True(Convert.ToUInt64(row[3], CultureInfo.InvariantCulture) < 1UL << 20);
        Assert.True(Convert.ToUInt64(row[4], CultureInfo.InvariantCulture) > uint.MaxValue - (1UL << 20));
    }

    [Fact]
    public void Lock_down_sets_the_memory_limit_and_disables_spilling()
    {
        using var sandbox = LoadedSandbox();
        sandbox.LockDown();
        Assert.Equal("false", sandbox.Setting("enable_external_access"));
        Assert.Equal("true", sandbox.Setting("lock_configuration"));
        Assert.Equal("false", sandbox.Setting("autoload_known_extensions"));
        Assert.Equal("false", sandbox.Setting("autoinstall_known_extensions"));
        Assert.Equal(string.Empty, sandbox.Setting("temp_directory"));
        Assert.NotEqual(string.Empty, sandbox.Setting("memory_limit"));
    }

    [Fact]
    public void Inputs_cannot_be_loaded_after_lock_down()
    {
        using var sandbox = new SqlSandbox("256MB");
        sandbox.LockDown();
        Assert.Throws<InvalidOperationException>(() => sandbox.LoadCsv(s_purchases, "/proc/self/fd/0"));
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("parquet")]
    public void A_column_type_outside_the_contracts_types_is_refused_before_any_statement_runs(string format)
    {
        // A type is spliced as a type name (it cannot be quoted): one that carries a second statement would run it before lock-down.
        var injected = new DatasetDeclaration
        {
            Name = "t",
            Owner = "o",
            PrivacyUnit = "a",
            Columns = [new("a", "BIGINT); CREATE TABLE pwned AS SELECT 42 AS x; SELECT (1")],
        };
        using var sandbox = new SqlSandbox("256MB");
        using var file = MemoryFile.Create("test");
        using (var w = file.OpenWrite())
        {
            w.Write(Encoding.UTF8.GetBytes("a\n1\n"));
        }

        var refusal = Assert.Throws<JobRefusalException>(() =>
            format == "csv" ? sandbox.LoadCsv(injected, file.Path) : sandbox.LoadParquet(injected, file.Path));
        Assert.Equal("dataset.bad_column_type", refusal.Code);
        sandbox.LockDown();
        Assert.ThrowsAny<DuckDBException>(() => sandbox.Query("SELECT x FROM pwned", []));
        Assert.ThrowsAny<DuckDBException>(() => sandbox.Query("SELECT a FROM t", []));
    }
}

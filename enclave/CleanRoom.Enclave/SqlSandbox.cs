using System.Globalization;
using CleanRoom.Core;
using CleanRoom.Privacy;
using DuckDB.NET.Data;

namespace CleanRoom.Enclave;

/// <summary>
/// One in-memory DuckDB database per job. Threading rule: DuckDB is synchronous and this class is
/// not thread-safe; one job thread owns one sandbox from creation to disposal. The one exception is
/// the interrupt armed by <see cref="InterruptOn"/>, which fires from the cancelling thread.
/// Life cycle: load inputs (the only files it may read) → <see cref="LockDown"/> → run the approved SQL.
/// </summary>
public sealed class SqlSandbox : IDisposable
{
    /// <summary>Message of the OperationCanceledException thrown when a statement is interrupted.</summary>
    public const string InterruptedMessage = "the DuckDB statement in flight was interrupted";

    private static readonly TimeSpan InterruptRepeat = TimeSpan.FromMilliseconds(10);
    private readonly DuckDBConnection _connection;
    private DuckDBCommand? _current;
    private bool _executing;
    private CancellationToken _interrupt;
    private bool _locked;
    private DpCapFunctions? _dpCap;

    public SqlSandbox(string memoryLimit)
    {
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        Exec($"SET memory_limit = '{Quote(memoryLimit)}';");
        // No spill file: work beyond the memory limit fails instead of writing plaintext to disk.
        Exec("SET temp_directory = '';");
        Exec("SET autoinstall_known_extensions = false;");
        Exec("SET autoload_known_extensions = false;");
    }

    /// <summary>
    /// From now on, when <paramref name="cancellationToken"/> fires, the statement running on this sandbox
    /// is interrupted (DuckDB checks its interrupt flag as it executes) and fails with an
    /// OperationCanceledException carrying <see cref="InterruptedMessage"/>; later statements refuse to start.
    /// </summary>
    public CancellationTokenRegistration InterruptOn(CancellationToken cancellationToken)
    {
        _interrupt = cancellationToken;
        return cancellationToken.Register(static state => ((SqlSandbox)state!).InterruptCurrent(), this);
    }

    /// <summary>Loads a decrypted CSV (in an in-memory file) into a table typed by the contract's declaration.</summary>
    public long LoadCsv(DatasetDeclaration dataset, string path)
    {
        EnsureUnlocked();
        EnsureSupportedTypes(dataset);
        var columns = string.Join(", ", dataset.Columns.Select(c => $"{Ident(c.Name)} {c.Type}"));
        var spec = string.Join(", ", dataset.Columns.Select(c => $"'{Quote(c.Name)}': '{Quote(c.Type)}'"));
        Exec($"CREATE TABLE {Ident(dataset.Name)} ({columns});");
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Ident(dataset.Name)} SELECT * FROM read_csv('{Quote(path)}', header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}});";
        return Interruptible(cmd, c => Convert.ToInt64(c.ExecuteNonQuery(), CultureInfo.InvariantCulture));
    }

    /// <summary>Loads a decrypted Parquet file (in an in-memory file), casting to the declared types.</summary>
    public long LoadParquet(DatasetDeclaration dataset, string path)
    {
        EnsureUnlocked();
        EnsureSupportedTypes(dataset);
        var columns = string.Join(", ", dataset.Columns.Select(c => $"{Ident(c.Name)} {c.Type}"));
        var select = string.Join(", ", dataset.Columns.Select(c => $"CAST({Ident(c.Name)} AS {c.Type})"));
        Exec($"CREATE TABLE {Ident(dataset.Name)} ({columns});");
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Ident(dataset.Name)} SELECT {select} FROM read_parquet('{Quote(path)}');";
        return Interruptible(cmd, c => Convert.ToInt64(c.ExecuteNonQuery(), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// From here on: no file or network access at all, no extension install or load, and the
    /// configuration can no longer be changed by any SQL.
    /// </summary>
    public void LockDown()
    {
        Exec("SET enable_external_access = false;");
        Exec("SET allow_community_extensions = false;");
        Exec("SET lock_configuration = true;");
        _locked = true;
    }

    /// <summary>
    /// Registers <see cref="DpPlan.RandomFunction"/>, the random ranks of the DP contribution cap (<see cref="DpPlan.TotalsSql"/>):
    /// each value is 32 bits from the OS CSPRNG above a 32-bit counter, so ranks order at random and are never equal. Past
    /// 2^32 − 1 values the function fails the statement rather than repeat a rank (far beyond what fits the memory limit); see
    /// <see cref="DpCapFunctions.RegisterRandom(DuckDBConnection)"/>. Also registers the cap's other <see cref="DpCapFunctions"/>.
    /// Registers once; every call forgets the cap's marks and unit index, so call it before each statement that caps. The analyst's SQL can call none of these (the analyzer allows only listed functions).
    /// </summary>
    public void EnableDpRandom()
    {
        if (_dpCap is not null)
        {
            _dpCap.Reset();
            return;
        }

        DpCapFunctions.RegisterRandom(_connection);
        _dpCap = DpCapFunctions.Register(_connection);
    }

    /// <summary>
    /// Sizes the DP cap's unit index (<see cref="DpCapFunctions.IndexUnits(long, long, int)"/>) from <paramref name="rangeSql"/>
    /// (<see cref="DpPlan.UnitRangeSql"/>), after lock-down and <see cref="EnableDpRandom"/>. True when the range is integer
    /// and the index took it, so <see cref="DpPlan.UnitIndexedTotalsSql"/> may run; false (no index) for any other unit type,
    /// an empty unit column or a range too wide, and <see cref="DpPlan.TotalsSql"/> runs instead.
    /// </summary>
    public bool IndexDpUnits(string rangeSql, int maxGroupsContributed)
    {
        var cap = _dpCap ?? throw new InvalidOperationException("the DP functions must be enabled before the unit index is sized");
        var row = Query(rangeSql, []).Rows.Single();
        return row.Length == 2 && Integer(row[0]) is { } min && Integer(row[1]) is { } max && cap.IndexUnits(min, max, maxGroupsContributed);

        // The unit types whose every value is a BIGINT (the index's functions take BIGINT): anything else never takes this path.
        static long? Integer(object? value) => value switch
        {
            long v => v,
            int v => v,
            short v => v,
            sbyte v => v,
            uint v => v,
            ushort v => v,
            byte v => v,
            ulong v when v <= long.MaxValue => (long)v,
            _ => null,
        };
    }

    public string Setting(string name)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT current_setting($n)::VARCHAR;";
        cmd.Parameters.Add(new DuckDBParameter("n", name));
        return cmd.ExecuteScalar()?.ToString() ?? string.Empty;
    }

    /// <summary>Runs SQL after lock-down, binding parameters as values (never spliced into the text).</summary>
    public (List<string> Columns, List<object?[]> Rows) Query(string sql, IReadOnlyList<BoundParameter> parameters)
    {
        if (!_locked)
        {
            throw new InvalidOperationException("the sandbox must be locked down before running a computation");
        }

        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new DuckDBParameter(p.Name, p.Value));
        }

        return Interruptible(cmd, c =>
        {
            using var reader = c.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                rows.Add(ReadRow(reader));
            }

            return (columns, rows);
        });
    }

    /// <summary>
    /// Like <see cref="Query"/>, but streams the rows (a new array per row) instead of holding them all: the DP per-unit
    /// query returns one row per (unit, group). The reader stays open until the enumeration ends.
    /// </summary>
    public IEnumerable<object?[]> QueryRows(string sql, IReadOnlyList<BoundParameter> parameters)
    {
        if (!_locked)
        {
            throw new InvalidOperationException("the sandbox must be locked down before running a computation");
        }

        return Stream(sql, parameters);
    }

    /// <summary>The enumeration behind <see cref="QueryRows"/>: interruptible like every other statement, until the last row.</summary>
    private IEnumerable<object?[]> Stream(string sql, IReadOnlyList<BoundParameter> parameters)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new DuckDBParameter(p.Name, p.Value));
        }

        Volatile.Write(ref _current, cmd);
        try
        {
            _interrupt.ThrowIfCancellationRequested();
            Volatile.Write(ref _executing, true);
            using var reader = Interrupted(cmd.ExecuteReader);
            while (Interrupted(reader.Read))
            {
                // Rows already computed are still streaming: a cancellation must stop that too.
                _interrupt.ThrowIfCancellationRequested();
                yield return ReadRow(reader);
            }
        }
        finally
        {
            Volatile.Write(ref _executing, false);
            Volatile.Write(ref _current, null);
        }
    }

    /// <summary>
    /// The current row, NULL as null. A value .NET cannot hold is returned exactly as text instead of failing the read: a
    /// DECIMAL beyond .NET's decimal range (about 7.9e28, possible only for DECIMAL wider than 28 digits), a DATE or
    /// TIMESTAMP outside years 1–9999 or ±infinity. Every row is read before the k filter or partition selection, so a
    /// failure would let one suppressed row fail the job, an error oracle.
    /// </summary>
    private static object?[] ReadRow(DuckDBDataReader reader)
    {
        var row = new object?[reader.FieldCount];
        for (var i = 0; i < row.Length; i++)
        {
            if (reader.IsDBNull(i))
            {
                continue;
            }

            try
            {
                row[i] = reader.GetValue(i);
            }
            catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException or InvalidOperationException)
            {
                row[i] = OutOfRangeText(reader, i);
            }
        }

        return row;
    }

    /// <summary>
    /// The exact text of a value .NET cannot hold (see <see cref="ReadRow"/>), or, should even that fail, a fixed marker
    /// naming the type: never an error.
    /// </summary>
    private static string OutOfRangeText(DuckDBDataReader reader, int ordinal)
    {
        var type = reader.GetDataTypeName(ordinal);
        try
        {
            if (reader.GetFieldType(ordinal) == typeof(decimal))
            {
                return DecimalText(reader.GetFieldValue<DuckDB.NET.Native.DuckDBDecimal>(ordinal));
            }

            if (type.Equals("Date", StringComparison.OrdinalIgnoreCase))
            {
                return DateText(reader.GetFieldValue<DuckDB.NET.Native.DuckDBDateOnly>(ordinal));
            }

            if (type.Equals("Timestamp", StringComparison.OrdinalIgnoreCase))
            {
                return TimestampText(reader.GetFieldValue<DuckDB.NET.Native.DuckDBTimestamp>(ordinal));
            }
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException or InvalidOperationException or InvalidCastException)
        {
            // Fall through to the marker.
        }

        return $"<{type} out of range>";
    }

    /// <summary>DuckDB's text of a DATE: ±infinity, or year-month-day with the year as DuckDB writes it (e.g. 20000-01-01).</summary>
    internal static string DateText(DuckDB.NET.Native.DuckDBDateOnly date) =>
        date.IsPositiveInfinity ? "infinity"
        : date.IsNegativeInfinity ? "-infinity"
        : string.Create(CultureInfo.InvariantCulture, $"{date.Year:0000}-{date.Month:00}-{date.Day:00}");

    /// <summary>DuckDB's text of a TIMESTAMP: ±infinity, or the date and the time to the microsecond.</summary>
    internal static string TimestampText(DuckDB.NET.Native.DuckDBTimestamp timestamp) =>
        timestamp.IsPositiveInfinity ? "infinity"
        : timestamp.IsNegativeInfinity ? "-infinity"
        : DateText(timestamp.Date) + string.Create(CultureInfo.InvariantCulture, $" {timestamp.Time.Hour:00}:{timestamp.Time.Min:00}:{timestamp.Time.Sec:00}.{timestamp.Time.Microsecond:000000}");

    /// <summary>The exact decimal text of an unscaled DuckDB value and its scale, e.g. -1234.50 for (-123450, 2).</summary>
    internal static string DecimalText(DuckDB.NET.Native.DuckDBDecimal value)
    {
        var unscaled = value.Value.ToBigInteger();
        var digits = System.Numerics.BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(value.Scale + 1, '0');
        var text = value.Scale == 0 ? digits : digits[..^value.Scale] + "." + digits[^value.Scale..];
        return unscaled.Sign < 0 ? "-" + text : text;
    }

    /// <summary>Runs one step of a statement, turning the engine's error after an interrupt into the cancellation it is.</summary>
    private T Interrupted<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception ex) when (ex is DuckDBException or OperationCanceledException && _interrupt.IsCancellationRequested)
        {
            throw new OperationCanceledException(InterruptedMessage, ex, _interrupt);
        }
    }

    /// <summary>Runs arbitrary SQL (tests use this to prove the lock-down holds).</summary>
    internal void Exec(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        Interruptible(cmd, c => c.ExecuteNonQuery());
    }

    private T Interruptible<T>(DuckDBCommand cmd, Func<DuckDBCommand, T> run)
    {
        Volatile.Write(ref _current, cmd);
        try
        {
            // Checked after publishing the command: an interrupt that fires from here on reaches it.
            _interrupt.ThrowIfCancellationRequested();
            Volatile.Write(ref _executing, true);
            try
            {
                return run(cmd);
            }
            catch (Exception ex) when (ex is DuckDBException or OperationCanceledException && _interrupt.IsCancellationRequested)
            {
                throw new OperationCanceledException(InterruptedMessage, ex, _interrupt);
            }
        }
        finally
        {
            Volatile.Write(ref _executing, false);
            Volatile.Write(ref _current, null);
        }
    }

    /// <summary>True while a statement runs (tests wait for it before interrupting).</summary>
    internal bool IsStatementRunning => Volatile.Read(ref _executing);

    /// <summary>
    /// Interrupts the statement in flight. DuckDB forgets an interrupt that lands before the engine has begun the statement
    /// (starting a query clears the flag), so the interrupt is repeated until the statement is gone. A repeat that reaches
    /// a later statement is harmless: after a cancellation no statement on this sandbox may start.
    /// </summary>
    private void InterruptCurrent()
    {
        var cmd = Volatile.Read(ref _current);
        if (cmd is null)
        {
            return; // nothing in flight; the next statement checks the token after publishing itself
        }

        TryCancel(cmd);
        _ = Task.Run(async () =>
        {
            while (ReferenceEquals(Volatile.Read(ref _current), cmd))
            {
                await Task.Delay(InterruptRepeat);
                if (ReferenceEquals(Volatile.Read(ref _current), cmd))
                {
                    TryCancel(cmd);
                }
            }
        });
    }

    private static void TryCancel(DuckDBCommand cmd)
    {
        try
        {
            cmd.Cancel();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or DuckDBException)
        {
            // The statement ended between the check and the call: nothing left to interrupt.
        }
    }

    public void Dispose() => _connection.Dispose();

    private void EnsureUnlocked()
    {
        if (_locked)
        {
            throw new InvalidOperationException("inputs can only be loaded before lock-down");
        }
    }

    /// <summary>
    /// Column types are written into the loading SQL as type names, which cannot be quoted: only the contract's own types are
    /// accepted, so a declaration that was never validated cannot append statements that would run before lock-down.
    /// </summary>
    private static void EnsureSupportedTypes(DatasetDeclaration dataset)
    {
        if (dataset.Columns.Any(c => !DatasetColumn.IsSupportedType(c.Type)))
        {
            throw new JobRefusalException("dataset.bad_column_type", "job refused: a dataset declares a column type that is not one of the contract's column types; nothing was loaded");
        }
    }

    private static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Quote(string s) => s.Replace("'", "''", StringComparison.Ordinal);
}

using System.Globalization;
using CleanRoom.Core;
using CleanRoom.Privacy;
using DuckDB.NET.Data;

namespace CleanRoom.Enclave;

/// <summary>
/// One in-memory DuckDB database per job. Threading rule: DuckDB is synchronous and this class is
/// not thread-safe; one job thread owns one sandbox from creation to disposal.
/// Life cycle: load inputs (the only files it may read) → <see cref="LockDown"/> → run the approved SQL.
/// </summary>
public sealed class SqlSandbox : IDisposable
{
    private readonly DuckDBConnection _connection;
    private bool _locked;

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

    /// <summary>Loads a decrypted CSV (in an in-memory file) into a table typed by the contract's declaration.</summary>
    public long LoadCsv(DatasetDeclaration dataset, string path)
    {
        EnsureUnlocked();
        var columns = string.Join(", ", dataset.Columns.Select(c => $"{Ident(c.Name)} {c.Type}"));
        var spec = string.Join(", ", dataset.Columns.Select(c => $"'{Quote(c.Name)}': '{Quote(c.Type)}'"));
        Exec($"CREATE TABLE {Ident(dataset.Name)} ({columns});");
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Ident(dataset.Name)} SELECT * FROM read_csv('{Quote(path)}', header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}});";
        return Convert.ToInt64(cmd.ExecuteNonQuery(), CultureInfo.InvariantCulture);
    }

    /// <summary>Loads a decrypted Parquet file (in an in-memory file), casting to the declared types.</summary>
    public long LoadParquet(DatasetDeclaration dataset, string path)
    {
        EnsureUnlocked();
        var columns = string.Join(", ", dataset.Columns.Select(c => $"{Ident(c.Name)} {c.Type}"));
        var select = string.Join(", ", dataset.Columns.Select(c => $"CAST({Ident(c.Name)} AS {c.Type})"));
        Exec($"CREATE TABLE {Ident(dataset.Name)} ({columns});");
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Ident(dataset.Name)} SELECT {select} FROM read_parquet('{Quote(path)}');";
        return Convert.ToInt64(cmd.ExecuteNonQuery(), CultureInfo.InvariantCulture);
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

        using var reader = cmd.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return (columns, rows);
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

        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new DuckDBParameter(p.Name, p.Value));
        }

        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            yield return row;
        }
    }

    /// <summary>Runs arbitrary SQL (tests use this to prove the lock-down holds).</summary>
    internal void Exec(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    private void EnsureUnlocked()
    {
        if (_locked)
        {
            throw new InvalidOperationException("inputs can only be loaded before lock-down");
        }
    }

    private static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Quote(string s) => s.Replace("'", "''", StringComparison.Ordinal);
}

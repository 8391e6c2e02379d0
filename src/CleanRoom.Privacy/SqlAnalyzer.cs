using System.Text.Json;
using CleanRoom.Privacy.Internal;
using DuckDB.NET.Data;

namespace CleanRoom.Privacy;

/// <summary>
/// Decides whether a computation's SQL may run in the clean room, using DuckDB's own parser
/// (<c>json_serialize_sql</c>) and a deny-by-default walk of the JSON AST. The rules are in SECURITY.md (Privacy engine).
/// </summary>
/// <remarks>
/// Threading: an instance owns one in-memory DuckDB connection and is <b>not thread-safe</b>. Use one analyzer per
/// thread, or guard a shared one with a lock. The connection never sees data: it only parses and re-prints SQL, with
/// external access, extension loading and configuration changes switched off.
/// </remarks>
public sealed class SqlAnalyzer : IDisposable
{
    private readonly DuckDBConnection _connection;
    private bool _disposed;

    public SqlAnalyzer()
    {
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText =
            "SET enable_external_access = false; SET autoinstall_known_extensions = false; " +
            "SET autoload_known_extensions = false; SET lock_configuration = true;";
        command.ExecuteNonQuery();
    }

    /// <summary>Analyses <paramref name="sql"/> against <paramref name="catalog"/>. Never throws for bad SQL: refusals are results.</summary>
    public SqlAnalysis Analyze(string sql, SqlCatalog catalog, IReadOnlyList<QueryParameterSpec>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(catalog);
        ObjectDisposedException.ThrowIf(_disposed, this);

        var specError = ParameterBinder.CheckSpecs(parameters ?? []);
        if (specError is not null)
        {
            return SqlAnalysis.Refused(sql, SqlErrorCodes.ParameterSpec, specError);
        }

        JsonDocument document;
        try
        {
            document = Serialize(sql);
        }
        catch (JsonException)
        {
            return SqlAnalysis.Refused(sql, SqlErrorCodes.ParseError, "the SQL's syntax tree cannot be read: it is nested too deeply, or holds a literal out of range (such as 1e400)");
        }

        using var _ = document;
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            var type = root.TryGetProperty("error_type", out var t) ? t.GetString() : null;
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : null;
            return type == "not implemented" && message is not null && message.Contains("Only SELECT", StringComparison.Ordinal)
                ? SqlAnalysis.Refused(sql, SqlErrorCodes.NotSelect, "only a single SELECT statement may run; this is another kind of statement")
                : SqlAnalysis.Refused(sql, SqlErrorCodes.ParseError, "the SQL does not parse: " + (message ?? "unknown parser error"));
        }

        return new AstAnalysis(sql, catalog, parameters ?? []).Run(root);
    }

    /// <summary>Parses <paramref name="sql"/> into DuckDB's JSON AST; the caller checks the <c>error</c> field.</summary>
    internal JsonDocument Serialize(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT json_serialize_sql(CAST($1 AS VARCHAR))";
        command.Parameters.Add(new DuckDBParameter(sql));
        var json = command.ExecuteScalar() as string
            ?? throw new InvalidOperationException("json_serialize_sql returned no document.");
        return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1024 });
    }

    /// <summary>Prints a JSON AST (as produced by <see cref="Serialize"/>) back to SQL text.</summary>
    internal string Deserialize(string astJson)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT json_deserialize_sql(CAST($1 AS JSON))";
        command.Parameters.Add(new DuckDBParameter(astJson));
        return command.ExecuteScalar() as string
            ?? throw new InvalidOperationException("json_deserialize_sql returned no text.");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _connection.Dispose();
    }
}

using DuckDB.NET.Data;

namespace CleanRoom.Privacy.Tests;

/// <summary>Runs rewritten SQL on a test's in-memory DuckDB, parameters bound as the enclave binds them.</summary>
internal static class DuckDbTestQueries
{
    /// <summary>The column names and every row (NULL as null) of <paramref name="sql"/>.</summary>
    public static (string[] Columns, List<object?[]> Rows) Query(DuckDBConnection db, string sql, IReadOnlyList<BoundParameter> parameters)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var p in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(p.Name, p.Value));
        }

        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
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

    public static void Execute(DuckDBConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

namespace CleanRoom.Privacy;

/// <summary>A column a contract declares for a dataset. <paramref name="Type"/> is a DuckDB type name (VARCHAR, BIGINT, DOUBLE, DATE, BOOLEAN, DECIMAL(18,2)…).</summary>
public sealed record ColumnSchema(string Name, string Type);

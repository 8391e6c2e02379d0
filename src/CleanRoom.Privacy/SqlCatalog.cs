namespace CleanRoom.Privacy;

/// <summary>The datasets a computation may read. Table names in SQL are matched case-insensitively, as DuckDB does.</summary>
public sealed record SqlCatalog(IReadOnlyList<DatasetSchema> Datasets);

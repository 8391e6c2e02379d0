namespace CleanRoom.Privacy;

/// <summary>A dataset as the contract declares it: its columns, the column that identifies a privacy unit (a person), and the columns it may be joined on.</summary>
public sealed record DatasetSchema(string Name, IReadOnlyList<ColumnSchema> Columns, string PrivacyUnitColumn, IReadOnlyList<string> JoinColumns);

namespace CleanRoom.Privacy.Internal;

/// <summary>One table in FROM: <paramref name="Alias"/> is the name DuckDB binds (the alias, or the table name).</summary>
internal sealed record TableReference(string Table, string Alias, string PrivacyUnitColumn);

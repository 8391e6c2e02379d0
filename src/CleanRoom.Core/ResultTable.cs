using System.Text.Json;

namespace CleanRoom.Core;

/// <summary>The decrypted output of a job: the canonical JSON {columns, rows} a recipient opens.</summary>
public sealed record ResultTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<JsonElement>> Rows);

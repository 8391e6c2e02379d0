using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// The outcome of <see cref="SqlAnalyzer.Analyze"/>. Fails closed: <see cref="IsAllowed"/> is true only for results built by
/// <see cref="Allowed"/> after every rule passed; a refusal carries a stable <see cref="ErrorCode"/> and a one-line <see cref="Reason"/>.
/// </summary>
public sealed record SqlAnalysis
{
    private SqlAnalysis() { }

    public bool IsAllowed { get; private init; }
    public string? ErrorCode { get; private init; }
    public string? Reason { get; private init; }
    /// <summary>Catalog names of the tables read, one per table reference (a self-join lists a table twice).</summary>
    public IReadOnlyList<string> Tables { get; private init; } = [];
    /// <summary>Columns referenced anywhere, as <c>table.column</c>, deduplicated.</summary>
    public IReadOnlyList<string> Columns { get; private init; } = [];
    /// <summary>Join conditions, e.g. <c>INNER customers.id = orders.customer_id</c>.</summary>
    public IReadOnlyList<string> Joins { get; private init; } = [];
    /// <summary>Output column names (alias or rendered expression).</summary>
    public IReadOnlyList<string> Outputs { get; private init; } = [];
    public IReadOnlyList<string> GroupBy { get; private init; } = [];
    /// <summary>Plain-language description for approvers.</summary>
    public string Summary { get; private init; } = "";

    /// <summary>The SQL text this analysis is about; the rewriter refuses to apply it to other text.</summary>
    internal string Sql { get; private init; } = "";
    /// <summary>Table references in FROM order: the alias DuckDB binds and the privacy unit column behind it.</summary>
    internal IReadOnlyList<TableReference> TableReferences { get; private init; } = [];

    internal static SqlAnalysis Refused(string sql, string errorCode, string reason) =>
        new() { Sql = sql, ErrorCode = errorCode, Reason = OneLine(reason), Summary = "Refused: " + OneLine(reason) };

    internal static SqlAnalysis Allowed(
        string sql,
        IReadOnlyList<TableReference> tableReferences,
        IReadOnlyList<string> columns,
        IReadOnlyList<string> joins,
        IReadOnlyList<string> outputs,
        IReadOnlyList<string> groupBy,
        string summary) =>
        new()
        {
            IsAllowed = true,
            Sql = sql,
            TableReferences = tableReferences,
            Tables = tableReferences.Select(t => t.Table).ToArray(),
            Columns = columns,
            Joins = joins,
            Outputs = outputs,
            GroupBy = groupBy,
            Summary = summary,
        };

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

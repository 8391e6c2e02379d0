using System.Text.Json.Nodes;

namespace CleanRoom.Privacy;

/// <summary>
/// Rewrites an allowed aggregate query so that each output row also reports, per table reference in FROM, the number of
/// distinct privacy units behind it: hidden columns <c>__cr_units_0</c>, <c>__cr_units_1</c>, … =
/// <c>count(DISTINCT alias.unit)</c>. COUNT DISTINCT ignores NULL, so NULL units never count, and a join that repeats one
/// unit's rows adds nothing. <see cref="ThresholdFilter"/> then drops rows under k and strips the columns.
/// The rest of the query is guarded so that no single row's value can make it raise (see <c>Internal.ErrorOracleGuard</c>).
/// </summary>
public static class ThresholdRewriter
{
    public const string UnitColumnPrefix = "__cr_units_";

    /// <summary>
    /// Returns the rewritten SQL, printed by DuckDB from the modified AST. Throws if <paramref name="analysis"/> is not an
    /// allowed analysis of exactly this <paramref name="sql"/> (a caller bug, not a user error).
    /// </summary>
    public static string Rewrite(string sql, SqlAnalysis analysis, SqlCatalog catalog, SqlAnalyzer analyzer)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(analyzer);
        if (!analysis.IsAllowed || !string.Equals(analysis.Sql, sql, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Only SQL that was analysed and allowed, unchanged, can be rewritten.");
        }

        foreach (var reference in analysis.TableReferences)
        {
            var dataset = catalog.Datasets.FirstOrDefault(d => string.Equals(d.Name, reference.Table, StringComparison.OrdinalIgnoreCase));
            if (dataset is null || !string.Equals(dataset.PrivacyUnitColumn, reference.PrivacyUnitColumn, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException("The catalog differs from the one the SQL was analysed against.");
            }
        }

        var root = Internal.AstNodes.Parse(analyzer, sql);
        var select = Internal.AstNodes.SelectNode(root);
        Internal.ErrorOracleGuard.Apply(select, analyzer, column => IsNarrowColumn(column, analysis, catalog));
        var selectList = select["select_list"]!.AsArray();
        for (var i = 0; i < analysis.TableReferences.Count; i++)
        {
            selectList.Add(UnitCountNode(analysis.TableReferences[i], i, analyzer));
        }

        return analyzer.Deserialize(root.ToJsonString());
    }

    /// <summary>
    /// True when the COLUMN_REF <paramref name="column"/> resolves to exactly one declared column whose type keeps a SUM from
    /// overflowing however many rows there are (see <see cref="IsNarrowType"/>). Anything unresolved or wider is not narrow
    /// (and is then summed in DOUBLE).
    /// </summary>
    private static bool IsNarrowColumn(JsonNode column, SqlAnalysis analysis, SqlCatalog catalog)
    {
        if (column["column_names"] is not JsonArray names || names.Count is < 1 or > 2)
        {
            return false;
        }

        var name = names[^1]!.GetValue<string>();
        var references = names.Count == 2
            ? analysis.TableReferences.Where(r => string.Equals(r.Alias, names[0]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase))
            : analysis.TableReferences;
        var types = references
            .Select(r => catalog.Datasets.First(d => string.Equals(d.Name, r.Table, StringComparison.OrdinalIgnoreCase)))
            .SelectMany(d => d.Columns.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)))
            .Select(c => c.Type)
            .ToList();
        return types.Count == 1 && IsNarrowType(types[0]);
    }

    /// <summary>
    /// The numeric types a contract may declare (ContractValidator): a SUM of BIGINT or INTEGER is a HUGEINT that would need
    /// 2^64 rows to overflow, of DECIMAL(18,2) a DECIMAL(38,2) that would need 10^20, and of DOUBLE saturates. Any other type
    /// (a catalog built by hand) is not trusted to be narrow.
    /// </summary>
    private static bool IsNarrowType(string type) =>
        type.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant() is "BIGINT" or "INTEGER" or "DOUBLE" or "DECIMAL(18,2)";

    /// <summary>Obtains the node shape from DuckDB itself rather than hand-writing it, so it follows the parser's version.</summary>
    private static JsonNode UnitCountNode(Internal.TableReference reference, int index, SqlAnalyzer analyzer)
    {
        var template = $"SELECT count(DISTINCT {Quote(reference.Alias)}.{Quote(reference.PrivacyUnitColumn)}) AS {Quote(UnitColumnPrefix + index)}";
        using var document = analyzer.Serialize(template);
        var node = JsonNode.Parse(document.RootElement.GetRawText())!;
        if (node["error"]?.GetValue<bool>() != false)
        {
            throw new InvalidOperationException("DuckDB could not parse the unit-count template.");
        }

        var item = node["statements"]![0]!["node"]!["select_list"]![0]!;
        item.Parent!.AsArray().Clear();
        return item;
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

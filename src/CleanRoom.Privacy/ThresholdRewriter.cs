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
        Internal.ErrorOracleGuard.Apply(select, analyzer);
        var selectList = select["select_list"]!.AsArray();
        for (var i = 0; i < analysis.TableReferences.Count; i++)
        {
            selectList.Add(UnitCountNode(analysis.TableReferences[i], i, analyzer));
        }

        return analyzer.Deserialize(root.ToJsonString());
    }

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

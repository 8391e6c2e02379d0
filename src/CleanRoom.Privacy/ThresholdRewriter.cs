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
    /// overflowing however many rows there are: integers of at most 64 bits, DECIMAL/NUMERIC with at most 18 digits, and
    /// floating point. Anything unresolved or wider is not narrow (and is then summed in DOUBLE).
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

    private static bool IsNarrowType(string type)
    {
        var t = type.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        if (t is "TINYINT" or "SMALLINT" or "INTEGER" or "INT" or "BIGINT" or "INT1" or "INT2" or "INT4" or "INT8" or "SHORT" or "LONG"
            or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "DOUBLE" or "FLOAT" or "REAL" or "FLOAT4" or "FLOAT8"
            or "DECIMAL" or "NUMERIC")
        {
            return true;
        }

        // DECIMAL(p) or DECIMAL(p,s) with p ≤ 18: the sum is DECIMAL(38,s), which no realistic row count can overflow.
        var open = t.IndexOf('(', StringComparison.Ordinal);
        if (open < 0 || !t.EndsWith(')') || t[..open] is not ("DECIMAL" or "NUMERIC"))
        {
            return false;
        }

        var width = t[(open + 1)..^1].Split(',')[0];
        return int.TryParse(width, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p <= 18;
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

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CleanRoom.Core;
using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// Plans a dp-mode computation: checks that the analyst's allowed aggregate query fits the per-unit DP pipeline and rewrites it
/// (on DuckDB's AST, never on text) into the per-unit query, one row per (privacy unit, group):
/// <c>SELECT unit AS __cr_unit, TRY(g1) AS __cr_g0, …, count(*) AS __cr_a0, sum(TRY_CAST(TRY(expr) AS DOUBLE)) AS __cr_a1, …
/// FROM … WHERE TRY(where) AND unit IS NOT NULL GROUP BY unit, TRY(g1), … ORDER BY __cr_unit</c>. With private partition
/// selection, <see cref="DpPlan.TotalsSql"/> wraps it (unordered) so DuckDB caps, clamps and sums, and
/// <see cref="DpPlan.ReleaseTotals"/> adds noise and selects; with public groups, <see cref="DpPlan.Release"/> streams its rows
/// through <see cref="DpAggregator"/>.
/// </summary>
/// <remarks>
/// Supported outputs: the GROUP BY expressions themselves, <c>count(*)</c>, <c>count(DISTINCT unit)</c> (the unit column of
/// the unit table), <c>sum(expr)</c> and <c>avg(expr)</c>, each aggregate bare (no arithmetic around it). The expression inside
/// an aggregate is computed per row, summed (or averaged) per unit and group, and only then clamped to its bounds, so
/// <c>sum(amount * 1e6)</c> is clamped after the multiplication. AVG is the mean over units of each unit's own mean in the
/// group (every unit weighs the same, however many rows it has). Per-unit values are DOUBLE and every row expression runs
/// under TRY, so no single value can make the query fail.
/// </remarks>
public static class DpRewriter
{
    public const string UnitColumn = "__cr_unit";
    public const string GroupColumnPrefix = "__cr_g";
    public const string AggregateColumnPrefix = "__cr_a";

    /// <summary>
    /// Plans <paramref name="sql"/> under <paramref name="dp"/>. Refusals are results (<see cref="PrivacyErrorCodes"/>). Throws only
    /// if <paramref name="analysis"/> is not an allowed analysis of exactly this SQL (a caller bug).
    /// </summary>
    public static DpPlan Plan(string sql, SqlAnalysis analysis, DpSpec dp, SqlCatalog catalog, SqlAnalyzer analyzer)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(dp);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(analyzer);
        if (!analysis.IsAllowed || !string.Equals(analysis.Sql, sql, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Only SQL that was analysed and allowed, unchanged, can be planned.");
        }

        try
        {
            return new Planner(sql, analysis, dp, catalog, analyzer).Run();
        }
        catch (PlanRefusal refusal)
        {
            return DpPlan.Refused(refusal.Code, refusal.Message);
        }
    }

    /// <summary>
    /// Plans a dp-mode <paramref name="computation"/> of <paramref name="contract"/>: the same checks at proposal (server) and
    /// before a run (enclave). Also refuses, with <see cref="PrivacyErrorCodes.NoBudget"/>, a computation that reads a dataset
    /// declaring no (ε, δ) budget.
    /// </summary>
    public static DpPlan Plan(ContractDocument contract, ComputationDocument computation, SqlAnalysis analysis, SqlAnalyzer analyzer)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(computation);
        ArgumentNullException.ThrowIfNull(analysis);
        if (computation.Privacy.Mode != PrivacySpec.DpMode || computation.Privacy.Dp is not { } dp)
        {
            return DpPlan.Refused(PrivacyErrorCodes.BadSpec, "the computation is not in dp mode with a DP specification");
        }

        foreach (var table in analysis.Tables.Distinct(StringComparer.Ordinal))
        {
            if (contract.FindDataset(table)?.Budget is null)
            {
                return DpPlan.Refused(PrivacyErrorCodes.NoBudget, $"dataset '{table}' declares no differential-privacy budget, so no dp computation may read it");
            }
        }

        return Plan(computation.Sql, analysis, dp, ContractCatalog.From(contract), analyzer);
    }

    private sealed class Planner(string sql, SqlAnalysis analysis, DpSpec dp, SqlCatalog catalog, SqlAnalyzer analyzer)
    {
        private readonly List<DatasetSchema> _schemas = analysis.TableReferences
            .Select(r => catalog.Datasets.First(d => string.Equals(d.Name, r.Table, StringComparison.OrdinalIgnoreCase)))
            .ToList();

        public DpPlan Run()
        {
            // The unit table: the one the DP unit is taken from; every output row is built per unit of this table.
            var unitIndex = dp.UnitTable is null
                ? 0
                : analysis.TableReferences.ToList().FindIndex(r => string.Equals(r.Table, dp.UnitTable, StringComparison.OrdinalIgnoreCase));
            if (unitIndex < 0)
            {
                throw Refuse(PrivacyErrorCodes.BadSpec, $"the unit table '{dp.UnitTable}' is not read by the query");
            }

            var unit = analysis.TableReferences[unitIndex];
            if (analysis.TableReferences.Count(r => string.Equals(r.Table, unit.Table, StringComparison.OrdinalIgnoreCase)) > 1)
            {
                // Another reference to the unit table puts a person's rows into other units' per-unit rows (a self-join on
                // a non-unit join column adds a row to every unit it matches), beyond the contribution bound.
                throw Refuse(PrivacyErrorCodes.DpUnsupported, $"the unit table '{unit.Table}' is read more than once (a self-join): a person's rows would then count towards other units' values");
            }

            var root = AstNodes.Parse(analyzer, sql);
            var select = AstNodes.SelectNode(root);
            if (select["having"] is JsonObject)
            {
                throw Refuse(PrivacyErrorCodes.DpUnsupported, "HAVING is not supported in dp mode");
            }

            if (select["modifiers"]!.AsArray().Any(m => m?["type"]?.GetValue<string>() != "ORDER_MODIFIER"))
            {
                throw Refuse(PrivacyErrorCodes.DpUnsupported, "only ORDER BY may follow the query in dp mode (no DISTINCT or LIMIT)");
            }

            var items = select["select_list"]!.AsArray().Select(i => i!).ToList();
            var groups = select["group_expressions"]!.AsArray().Select(g => ResolveGroupAlias(g!, items)).ToList();
            var groupKeys = groups.Select(AstNodes.Canonical).ToList();

            // Classify the outputs, in the analyst's order.
            var outputs = new List<DpOutput>();
            var names = new List<string>();
            var aggregateItems = new List<(string Name, DpAggregateKind Kind, JsonNode? Argument)>();
            foreach (var item in items)
            {
                var name = OutputName(item);
                names.Add(name);
                var groupIndex = groupKeys.IndexOf(AstNodes.Canonical(item));
                if (groupIndex >= 0)
                {
                    outputs.Add(new DpOutput(true, groupIndex));
                    continue;
                }

                var (kind, argument) = Classify(item, name, unit);
                outputs.Add(new DpOutput(false, aggregateItems.Count));
                aggregateItems.Add((name, kind, argument));
            }

            var duplicate = aggregateItems.GroupBy(a => a.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw Refuse(PrivacyErrorCodes.BadSpec, $"two outputs are named '{duplicate.Key}'; give each aggregate its own alias so its bound is unambiguous");
            }

            var specs = Bounds(aggregateItems.Select(a => (a.Name, a.Kind)).ToList());
            var options = Options(groups.Count, specs);

            // Build the per-unit query on the same AST: FROM and joins are kept as they are.
            var unitRef = AstNodes.Expression(analyzer, Quote(unit.Alias) + "." + Quote(unit.PrivacyUnitColumn));
            var selectList = new JsonArray();
            selectList.Add(Aliased(unitRef.DeepClone(), UnitColumn));
            for (var i = 0; i < groups.Count; i++)
            {
                selectList.Add(Aliased(AstNodes.Try(analyzer, groups[i].DeepClone()), GroupColumnPrefix + i.ToString(CultureInfo.InvariantCulture)));
            }

            var sqlColumns = new int[specs.Count];
            var next = 1 + groups.Count;
            for (var i = 0; i < aggregateItems.Count; i++)
            {
                var (_, kind, argument) = aggregateItems[i];
                JsonNode? column = kind switch
                {
                    DpAggregateKind.Count => AstNodes.Expression(analyzer, "count(*)"),
                    DpAggregateKind.Sum => PerUnit("sum", argument!),
                    DpAggregateKind.Average => PerUnit("avg", argument!),
                    _ => null,
                };
                sqlColumns[i] = column is null ? -1 : next++;
                if (column is not null)
                {
                    selectList.Add(Aliased(column, AggregateColumnPrefix + i.ToString(CultureInfo.InvariantCulture)));
                }
            }

            select["select_list"] = selectList;
            var notNull = AstNodes.Expression(analyzer, AstNodes.HolePrefix + "0 IS NOT NULL", unitRef);
            select["where_clause"] = select["where_clause"] is JsonObject where
                ? AstNodes.Expression(analyzer, AstNodes.HolePrefix + "0 AND " + AstNodes.HolePrefix + "1", AstNodes.Try(analyzer, where.DeepClone()), notNull)
                : notNull;
            // GROUP BY unit, group expressions (the same nodes as in the select list, so DuckDB matches them).
            var groupBy = new JsonArray();
            var groupSet = new JsonArray();
            for (var i = 0; i <= groups.Count; i++)
            {
                var copy = selectList[i]!.DeepClone();
                AstNodes.TakeAlias(copy);
                groupBy.Add(copy);
                groupSet.Add(i);
            }

            select["group_expressions"] = groupBy;
            select["group_sets"] = new JsonArray(groupSet);
            // With private selection the cap, clamp and sums run in DuckDB around the per-unit query, which needs no order.
            select["modifiers"] = new JsonArray();
            var unordered = analyzer.Deserialize(root.ToJsonString());
            var totalsSql = options.PublicGroupKeys is null
                ? DpTotalsQuery.Build(unordered, groups.Count, specs, sqlColumns, options.MaxGroupsContributed)
                : null;
            // The same totals with the cap indexed by unit value, which the executor runs when the unit column's range (from
            // the unit table itself: every unit of the per-unit query is one of its values) is integer and small enough.
            (string, string)? unitIndexed = totalsSql is not null && options.MaxGroupsContributed <= DpCapFunctions.MaxGroups
                ? (DpTotalsQuery.Build(unordered, groups.Count, specs, sqlColumns, options.MaxGroupsContributed, indexedByUnit: true),
                    $"SELECT min({Quote(unit.PrivacyUnitColumn)}), max({Quote(unit.PrivacyUnitColumn)}) FROM {Quote(unit.Table)}")
                : null;
            // Streamed (public groups): ordered by unit, so the pipeline can finish each unit as its rows end instead of holding every unit's groups.
            select["modifiers"] = AstNodes.SelectNode(AstNodes.Parse(analyzer, $"SELECT 1 AS {UnitColumn} ORDER BY {UnitColumn}"))["modifiers"]!.DeepClone();
            var perUnitSql = analyzer.Deserialize(root.ToJsonString());

            return DpPlan.Allowed(perUnitSql, totalsSql, unitIndexed, names, outputs, groups.Count, specs, sqlColumns, options, Summarize(unit, specs, options));
        }

        private JsonNode PerUnit(string function, JsonNode argument) =>
            AstNodes.Expression(analyzer, $"{function}(TRY_CAST({AstNodes.HolePrefix}0 AS DOUBLE))", AstNodes.Try(analyzer, argument.DeepClone()));

        private (DpAggregateKind Kind, JsonNode? Argument) Classify(JsonNode item, string name, TableReference unit)
        {
            if (!AstNodes.IsAggregate(item))
            {
                throw AstNodes.ContainsAggregate(item)
                    ? Refuse(PrivacyErrorCodes.DpUnsupported, $"output '{name}' computes on an aggregate; in dp mode each aggregate must be a bare count(*), count(DISTINCT unit), sum(…) or avg(…)")
                    : Refuse(PrivacyErrorCodes.DpUnsupported, $"output '{name}' is neither a GROUP BY expression (written the same way) nor an aggregate");
            }

            var function = item["function_name"]!.GetValue<string>().ToLowerInvariant();
            var distinct = item["distinct"]?.GetValue<bool>() == true;
            var children = item["children"]!.AsArray();
            if (item["filter"] is JsonObject)
            {
                throw Refuse(PrivacyErrorCodes.DpUnsupported, $"output '{name}': FILTER on an aggregate is not supported in dp mode; use WHERE");
            }

            switch (function)
            {
                case "count_star":
                    return (DpAggregateKind.Count, null);
                case "count" when distinct && children.Count == 1 && IsUnitColumn(children[0]!, unit):
                    return (DpAggregateKind.CountDistinctUnits, null);
                case "count":
                    throw Refuse(PrivacyErrorCodes.DpUnsupported, $"output '{name}': in dp mode count only as count(*) or count(DISTINCT {unit.Alias}.{unit.PrivacyUnitColumn}) (the unit table's unit)");
                case "sum" when !distinct && children.Count == 1:
                    return (DpAggregateKind.Sum, children[0]);
                case "avg" or "mean" when !distinct && children.Count == 1:
                    return (DpAggregateKind.Average, children[0]);
                default:
                    throw Refuse(PrivacyErrorCodes.DpUnsupported, $"output '{name}': {function} is not supported in dp mode (only count(*), count(DISTINCT unit), sum and avg)");
            }
        }

        private bool IsUnitColumn(JsonNode e, TableReference unit)
        {
            if (e["class"]?.GetValue<string>() != "COLUMN_REF" || e["column_names"] is not JsonArray names)
            {
                return false;
            }

            var parts = names.Select(n => n!.GetValue<string>()).ToArray();
            return parts.Length switch
            {
                2 => string.Equals(parts[0], unit.Alias, StringComparison.OrdinalIgnoreCase)
                    && string.Equals(parts[1], unit.PrivacyUnitColumn, StringComparison.OrdinalIgnoreCase),
                // Unqualified: the analyzer refused it unless exactly one table in FROM has the column.
                1 => string.Equals(parts[0], unit.PrivacyUnitColumn, StringComparison.OrdinalIgnoreCase)
                    && analysis.TableReferences.Count(r => HasColumn(r, parts[0])) == 1,
                _ => false,
            };
        }

        private bool HasColumn(TableReference reference, string column) =>
            _schemas[analysis.TableReferences.ToList().IndexOf(reference)].Columns.Any(c => string.Equals(c.Name, column, StringComparison.OrdinalIgnoreCase));

        /// <summary>GROUP BY may name an output alias (when no table column has that name); the per-unit query needs the expression.</summary>
        private JsonNode ResolveGroupAlias(JsonNode group, List<JsonNode> items)
        {
            if (group["class"]?.GetValue<string>() == "COLUMN_REF" && group["column_names"] is JsonArray { Count: 1 } names)
            {
                var name = names[0]!.GetValue<string>();
                var isTableColumn = _schemas.Any(s => s.Columns.Any(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)));
                var item = items.FirstOrDefault(i => string.Equals(i["alias"]?.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase));
                if (!isTableColumn && item is not null)
                {
                    var copy = item.DeepClone();
                    AstNodes.TakeAlias(copy);
                    return copy;
                }
            }

            return group;
        }

        private List<DpAggregateSpec> Bounds(List<(string Name, DpAggregateKind Kind)> aggregates)
        {
            foreach (var bound in dp.Bounds)
            {
                var matches = aggregates.Count(a => string.Equals(a.Name, bound.Column, StringComparison.OrdinalIgnoreCase));
                if (matches == 0)
                {
                    throw Refuse(PrivacyErrorCodes.BadSpec, $"a bound names '{bound.Column}', which is not an aggregate output of the query");
                }

                if (dp.Bounds.Count(b => string.Equals(b.Column, bound.Column, StringComparison.OrdinalIgnoreCase)) > 1)
                {
                    throw Refuse(PrivacyErrorCodes.BadSpec, $"output '{bound.Column}' has more than one bound");
                }
            }

            var specs = new List<DpAggregateSpec>();
            foreach (var (name, kind) in aggregates)
            {
                var bound = dp.Bounds.FirstOrDefault(b => string.Equals(b.Column, name, StringComparison.OrdinalIgnoreCase));
                if (kind == DpAggregateKind.CountDistinctUnits)
                {
                    if (bound is not null)
                    {
                        throw Refuse(PrivacyErrorCodes.BadSpec, $"output '{name}' counts distinct units (each adds exactly 1); it takes no bound");
                    }

                    specs.Add(new DpAggregateSpec(name, kind, 0m, 1m));
                    continue;
                }

                if (bound is null)
                {
                    throw Refuse(PrivacyErrorCodes.BadSpec, $"output '{name}' has no declared bound (lower, upper) in the DP specification");
                }

                specs.Add(new DpAggregateSpec(name, kind, bound.Lower, bound.Upper, bound.Granularity));
            }

            return specs;
        }

        private DpOptions Options(int groupCount, List<DpAggregateSpec> specs)
        {
            List<string>? publicKeys = null;
            if (dp.PublicGroups is { } publicGroups)
            {
                if (publicGroups.Any(g => g is null || g.Count != groupCount))
                {
                    throw Refuse(PrivacyErrorCodes.BadSpec, $"each public group must list {groupCount} value(s), one per GROUP BY expression");
                }

                publicKeys = publicGroups.Select(g => DpGroupKey.Encode(g)).Distinct(StringComparer.Ordinal).ToList();
            }

            var options = new DpOptions(dp.Epsilon, dp.Delta, dp.MaxGroupsContributed, publicKeys);
            if (DpAggregator.Check(specs, options) is { } error)
            {
                throw Refuse(PrivacyErrorCodes.BadSpec, error);
            }

            return options;
        }

        private string Summarize(TableReference unit, List<DpAggregateSpec> specs, DpOptions options)
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"privacy mode dp: ε={dp.Epsilon}, δ={dp.Delta}, max groups per unit={dp.MaxGroupsContributed}, unit {unit.Table}.{unit.PrivacyUnitColumn}, bounds ");
            var bounds = specs.Where(s => s.Kind != DpAggregateKind.CountDistinctUnits)
                .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {KindName(s.Kind)} per unit in [{s.Lower}, {s.Upper}] step {s.Granularity}"))
                .ToList();
            text.Append(bounds.Count > 0 ? string.Join("; ", bounds) : "none");
            text.Append(options.PublicGroupKeys is { } keys
                ? string.Create(CultureInfo.InvariantCulture, $", partition selection public ({keys.Count} group(s))")
                : ", partition selection private");
            return text.ToString();
        }

        private static string KindName(DpAggregateKind kind) => kind switch
        {
            DpAggregateKind.Count => "count(*)",
            DpAggregateKind.Sum => "sum",
            DpAggregateKind.Average => "avg (mean of per-unit means)",
            _ => "count(DISTINCT unit)",
        };

        private string OutputName(JsonNode item)
        {
            if (item["alias"]?.GetValue<string>() is { Length: > 0 } alias)
            {
                return alias;
            }

            return item["class"]?.GetValue<string>() == "COLUMN_REF" && item["column_names"] is JsonArray names
                ? names[^1]!.GetValue<string>()
                : AstNodes.Print(analyzer, item);
        }

        private static JsonNode Aliased(JsonNode node, string alias)
        {
            node["alias"] = alias;
            return node;
        }

        private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

        private static PlanRefusal Refuse(string code, string reason) => new(code, reason);
    }

    private sealed class PlanRefusal(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}

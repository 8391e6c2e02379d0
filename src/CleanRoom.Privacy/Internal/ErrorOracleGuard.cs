using System.Text.Json.Nodes;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// Rewrites an allowed aggregate query so that no single row's value can make it raise. A query that fails only when one
/// person's row is present (integer overflow, an out-of-range date, …) would reveal that row through the job's outcome,
/// an error oracle that thresholds and noise cannot hide.
/// </summary>
/// <remarks>
/// Before aggregation each computation runs under DuckDB's <c>TRY(…)</c>, which yields NULL for the failing row instead of
/// raising: the WHERE clause (a NULL condition drops the row), aggregate arguments and FILTERs, and grouping expressions.
/// After aggregation DuckDB cannot <c>TRY</c> an expression over group keys, so a computed output (or ORDER BY term) that
/// uses no aggregate, being a deterministic function of the group keys, becomes an extra grouping expression under
/// <c>TRY</c>: the groups are unchanged. An aggregate inside a larger expression is converted to DOUBLE first, and so is a
/// group key, parameter or constant expression beside it (number literals excepted), so the arithmetic around it cannot overflow and no implicit cast can raise. A SUM or AVG accumulates exactly only over a bare column of a narrow declared type
/// (BIGINT, INTEGER, DECIMAL(18,2), DOUBLE), whose running total cannot reach the range of
/// HUGEINT or DECIMAL(38) for any number of rows that fits in memory; over anything else (an expression, a constant, a
/// wide column) it sums in DOUBLE, which saturates at ±∞ instead of raising, so no crafted value in a joined row can tip
/// the total into an overflow error.
/// </remarks>
internal sealed class ErrorOracleGuard
{
    private static readonly HashSet<string> Accumulating = new(StringComparer.OrdinalIgnoreCase) { "sum", "avg", "mean" };

    private readonly SqlAnalyzer _analyzer;
    private readonly Func<JsonNode, bool> _isNarrowColumn;
    private readonly JsonArray _groupExpressions;
    private readonly JsonArray? _groupSet;
    private readonly HashSet<string> _groupKeys = new(StringComparer.Ordinal);

    private ErrorOracleGuard(SqlAnalyzer analyzer, JsonObject select, Func<JsonNode, bool> isNarrowColumn)
    {
        _analyzer = analyzer;
        _isNarrowColumn = isNarrowColumn;
        _groupExpressions = select["group_expressions"]!.AsArray();
        var sets = select["group_sets"]!.AsArray();
        _groupSet = sets.Count == 1 ? sets[0]!.AsArray() : null;
    }

    /// <summary>
    /// Guards the SELECT node in place. Unaliased outputs whose text changes keep their original name as an alias.
    /// <paramref name="isNarrowColumn"/> tells whether a COLUMN_REF node names a column whose sum cannot overflow.
    /// </summary>
    public static void Apply(JsonObject select, SqlAnalyzer analyzer, Func<JsonNode, bool> isNarrowColumn)
    {
        var guard = new ErrorOracleGuard(analyzer, select, isNarrowColumn);
        if (select["where_clause"] is JsonObject where)
        {
            select["where_clause"] = AstNodes.Try(analyzer, where);
        }

        for (var i = 0; i < guard._groupExpressions.Count; i++)
        {
            var wrapped = AstNodes.Try(analyzer, guard._groupExpressions[i]!);
            new AstNodes.Slot(guard._groupExpressions, i).Set(wrapped);
            guard._groupKeys.Add(AstNodes.Canonical(wrapped));
        }

        var selectList = select["select_list"]!.AsArray();
        for (var i = 0; i < selectList.Count; i++)
        {
            var item = selectList[i]!;
            var before = AstNodes.Canonical(item);
            var name = item["alias"]?.GetValue<string>() is { Length: > 0 } alias ? alias : null;
            name ??= AstNodes.Print(analyzer, item);
            var guarded = guard.Output(item);
            if (AstNodes.Canonical(guarded) != before)
            {
                guarded["alias"] = name;
            }

            new AstNodes.Slot(selectList, i).Set(guarded);
        }

        foreach (var modifier in select["modifiers"]!.AsArray().OfType<JsonObject>())
        {
            if (modifier["type"]?.GetValue<string>() != "ORDER_MODIFIER")
            {
                continue;
            }

            foreach (var order in modifier["orders"]!.AsArray().OfType<JsonObject>())
            {
                if (order["expression"]!["class"]?.GetValue<string>() != "CONSTANT")
                {
                    new AstNodes.Slot(order, "expression").Set(guard.Output(order["expression"]!));
                }
            }
        }
    }

    /// <summary>Guards one aggregate's arguments and FILTER in place; a SUM or AVG of anything but a narrow column sums in DOUBLE.</summary>
    private void GuardAggregate(JsonNode aggregate)
    {
        var accumulating = Accumulating.Contains(aggregate["function_name"]?.GetValue<string>() ?? "");
        foreach (var slot in AstNodes.Children(aggregate).ToList())
        {
            var argument = slot.Get();
            var tried = AstNodes.Try(_analyzer, argument);
            if (accumulating && !(argument["class"]?.GetValue<string>() == "COLUMN_REF" && _isNarrowColumn(argument)))
            {
                tried = AstNodes.Expression(_analyzer, "TRY_CAST(" + AstNodes.HolePrefix + "0 AS DOUBLE)", tried);
            }

            slot.Set(tried);
        }

        if (aggregate["filter"] is JsonObject filter)
        {
            aggregate["filter"] = AstNodes.Try(_analyzer, filter);
        }
    }

    private static readonly HashSet<string> NumberTypes = new(StringComparer.Ordinal)
    {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
        "FLOAT", "DOUBLE", "DECIMAL",
    };

    /// <summary>A number written in the SQL (2, -2, 0.5): its conversion to the argument type either binds or is refused when the query is planned (round(x, 2)).</summary>
    private static bool IsNumberLiteral(JsonNode e)
    {
        if (e["class"]?.GetValue<string>() == "FUNCTION" && e["function_name"]?.GetValue<string>() == "-"
            && e["children"] is JsonArray { Count: 1 } negated)
        {
            e = negated[0]!;
        }

        return e["class"]?.GetValue<string>() == "CONSTANT" && e["value"]?["is_null"]?.GetValue<bool>() == false
            && NumberTypes.Contains(e["value"]?["type"]?["id"]?.GetValue<string>() ?? "");
    }

    private static bool ContainsParameter(JsonNode e) =>
        e["class"]?.GetValue<string>() == "PARAMETER" || AstNodes.Children(e).Any(c => ContainsParameter(c.Get()));

    private JsonNode Output(JsonNode e)
    {
        var cls = e["class"]?.GetValue<string>();
        if (cls is "COLUMN_REF" or "CONSTANT" or "PARAMETER" || _groupKeys.Contains(AstNodes.Canonical(e)))
        {
            return e;
        }

        if (AstNodes.IsAggregate(e))
        {
            GuardAggregate(e);
            return e;
        }

        if (AstNodes.ContainsAggregate(e))
        {
            foreach (var slot in AstNodes.Children(e).ToList())
            {
                var child = slot.Get();
                var guarded = Output(child);
                // Beside an aggregate, anything but a number literal is read as DOUBLE too: left as it is, DuckDB would convert
                // a group key, a parameter or a constant expression to the aggregate's type through an implicit cast that
                // raises on a value it cannot convert (nullif(count(*), email), nullif(count(*), $region), nullif(count(*),
                // 'abc')), and it does so only for the groups that exist (a constant whose folding fails is left to run time).
                // A constant expression also runs under TRY, so that its own arithmetic cannot raise either.
                if (AstNodes.IsAggregate(child))
                {
                    guarded = AstNodes.Expression(_analyzer, "TRY_CAST(" + AstNodes.HolePrefix + "0 AS DOUBLE)", guarded);
                }
                else if (!AstNodes.ContainsAggregate(child) && !IsNumberLiteral(child))
                {
                    if (!AstNodes.ContainsColumn(child) && !ContainsParameter(child))
                    {
                        guarded = AstNodes.Try(_analyzer, guarded);
                    }

                    guarded = AstNodes.Expression(_analyzer, "TRY_CAST(" + AstNodes.HolePrefix + "0 AS DOUBLE)", guarded);
                }

                slot.Set(guarded);
            }

            return e;
        }

        if (!AstNodes.ContainsColumn(e))
        {
            // A constant expression still runs under TRY: one whose folding fails (9223372036854775807 + 1) is left to run
            // time and would raise only when a group exists.
            return AstNodes.Try(_analyzer, e);
        }

        // A function of the group keys only: evaluate it per row under TRY and group by it too.
        var alias = e["alias"]?.GetValue<string>() ?? "";
        var wrapped = AstNodes.Try(_analyzer, e.DeepClone());
        wrapped["alias"] = "";
        var key = AstNodes.Canonical(wrapped);
        if (_groupKeys.Add(key))
        {
            if (_groupSet is null)
            {
                throw new InvalidOperationException("A computed output over group keys needs a GROUP BY.");
            }

            _groupSet.Add(_groupExpressions.Count);
            _groupExpressions.Add(wrapped.DeepClone());
        }

        wrapped["alias"] = alias;
        return wrapped;
    }
}

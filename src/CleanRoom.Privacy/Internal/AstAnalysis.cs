using System.Text;
using System.Text.Json;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// One deny-by-default walk over DuckDB's JSON AST (the shape <c>json_serialize_sql</c> prints in DuckDB 1.5).
/// Every node class and property that matters is matched explicitly; anything not recognised is refused.
/// </summary>
internal sealed class AstAnalysis
{
    private const int MaxDepth = 200;
    internal const string ReservedPrefix = "__cr_";

    private static readonly HashSet<string> Aggregates = new(StringComparer.Ordinal)
    {
        "count", "count_star", "sum", "avg", "mean", "min", "max",
    };

    // Scalar functions and operators that cannot read files, call out, or reveal row identity on their own.
    private static readonly HashSet<string> ScalarFunctions = new(StringComparer.Ordinal)
    {
        "+", "-", "*", "/", "//", "%", "||", "~~", "!~~", "~~*", "!~~*",
        "lower", "upper", "trim", "ltrim", "rtrim", "length", "substr", "substring", "concat", "replace",
        "prefix", "suffix", "starts_with", "contains",
        "date_trunc", "date_part", "datepart", "year", "month", "day", "quarter", "week", "dayofweek", "isodow", "hour",
        "abs", "round", "floor", "ceil", "ceiling", "sign", "least", "greatest", "nullif", "coalesce",
    };

    // What may stand between an aggregate and the output (see CheckAroundAggregates): DOUBLE in, DOUBLE out, never raising.
    private static readonly string[] AfterAggregateFunctions =
        ["+", "-", "*", "/", "//", "%", "abs", "round", "floor", "ceil", "ceiling", "sign", "least", "greatest", "nullif", "coalesce"];

    private static readonly HashSet<string> CastTypes = new(StringComparer.Ordinal)
    {
        "VARCHAR", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL",
        "DATE", "TIMESTAMP", "BOOLEAN",
    };

    private static readonly HashSet<string> OperatorTypes = new(StringComparer.Ordinal)
    {
        "OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL", "COMPARE_IN", "COMPARE_NOT_IN", "OPERATOR_COALESCE",
    };

    private enum Clause { Select, Where, GroupBy, OrderBy, Join, AggregateArgument }

    private readonly string _sql;
    private readonly SqlCatalog _catalog;
    private readonly IReadOnlyList<QueryParameterSpec> _parameters;
    private readonly List<(TableReference Reference, DatasetSchema Schema)> _scope = [];
    private readonly List<string> _columns = [];
    private readonly List<string> _joins = [];
    private readonly List<string> _filters = [];
    private readonly SortedSet<string> _usedParameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonElement> _selectAliases = new(StringComparer.OrdinalIgnoreCase);

    public AstAnalysis(string sql, SqlCatalog catalog, IReadOnlyList<QueryParameterSpec> parameters)
    {
        _sql = sql;
        _catalog = catalog;
        _parameters = parameters;
    }

    public SqlAnalysis Run(JsonElement root)
    {
        try
        {
            return Analyze(root);
        }
        catch (RefusedException refused)
        {
            return SqlAnalysis.Refused(_sql, refused.Code, refused.Message);
        }
    }

    private SqlAnalysis Analyze(JsonElement root)
    {
        var statements = Array(root, "statements");
        if (statements.GetArrayLength() != 1)
        {
            throw Refuse(SqlErrorCodes.MultipleStatements, $"exactly one SELECT statement is allowed; found {statements.GetArrayLength()}");
        }

        var node = Object(statements[0], "node");
        var nodeType = String(node, "type");
        if (nodeType == "SET_OPERATION_NODE")
        {
            throw Refuse(SqlErrorCodes.SetOperation, "UNION/INTERSECT/EXCEPT are not allowed; submit one aggregate SELECT");
        }

        if (nodeType != "SELECT_NODE")
        {
            throw Refuse(SqlErrorCodes.NotSelect, $"only a plain SELECT is allowed, not {nodeType}");
        }

        if (node.TryGetProperty("cte_map", out var cte) && Array(cte, "map").GetArrayLength() > 0)
        {
            throw Refuse(SqlErrorCodes.Cte, "WITH (common table expressions) is not supported yet; use the contract's tables directly");
        }

        RequireNull(node, "sample", SqlErrorCodes.ForbiddenClause, "TABLESAMPLE/USING SAMPLE is not allowed");
        if (!IsNull(node, "qualify"))
        {
            throw Refuse(SqlErrorCodes.WindowFunction, "QUALIFY (window filtering) is not allowed");
        }

        RequireNull(node, "having", SqlErrorCodes.ForbiddenClause, "HAVING is not allowed: it filters on exact aggregate values before thresholds and noise");
        if (String(node, "aggregate_handling") != "STANDARD_HANDLING")
        {
            throw Refuse(SqlErrorCodes.ForbiddenClause, "GROUP BY ALL is not allowed; list the grouping expressions");
        }

        // FROM
        var from = Object(node, "from_table");
        BindFrom(from);
        if (_scope.Count == 0)
        {
            throw Refuse(SqlErrorCodes.NoTable, "the query reads no table; it must aggregate one of the contract's datasets");
        }

        CheckJoins(from);

        // WHERE
        if (!IsNull(node, "where_clause"))
        {
            var where = node.GetProperty("where_clause");
            Validate(where, Clause.Where, 0);
            _filters.Add(Render(where));
        }

        // Select-list aliases are visible to GROUP BY and ORDER BY (DuckDB binds table columns first, then aliases).
        var selectList = Array(node, "select_list");
        foreach (var item in selectList.EnumerateArray())
        {
            var alias = Alias(item);
            if (alias.Length > 0)
            {
                if (alias.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    throw Refuse(SqlErrorCodes.ReservedName, $"output name '{alias}' uses the reserved prefix {ReservedPrefix}");
                }

                // DuckDB reads a bare name in GROUP BY or ORDER BY as a table's whole row before an output alias, so the
                // grouping approvers were shown would not be the one that runs.
                if (_scope.Any(s => string.Equals(s.Reference.Alias, alias, StringComparison.OrdinalIgnoreCase)))
                {
                    throw Refuse(SqlErrorCodes.AmbiguousColumn, $"output name '{alias}' is also the name of a table in FROM (GROUP BY or ORDER BY {alias} would mean that table's whole row); rename one of them");
                }

                _selectAliases.TryAdd(alias, item);
            }
        }

        // GROUP BY
        var groupExpressions = Array(node, "group_expressions");
        CheckGroupingSets(node, groupExpressions.GetArrayLength());
        var groupKeys = new List<string>();
        var groupBy = new List<string>();
        foreach (var expression in groupExpressions.EnumerateArray())
        {
            if (String(expression, "class") == "CONSTANT")
            {
                throw Refuse(SqlErrorCodes.ForbiddenClause, "GROUP BY by position (GROUP BY 1) is not allowed; repeat the expression or use its alias");
            }

            var target = ResolveOutputAlias(expression) ?? expression;
            Validate(target, Clause.GroupBy, 0);
            groupKeys.Add(Canonical(target));
            groupBy.Add(Render(target));
        }

        // SELECT list
        var outputs = new List<string>();
        var described = new List<string>(); // for approvers: each output with the expression behind its name
        var hasAggregate = false;
        foreach (var item in selectList.EnumerateArray())
        {
            Validate(item, Clause.Select, 0);
        }

        foreach (var item in selectList.EnumerateArray())
        {
            if (!IsAggregateSafe(item, groupKeys, ref hasAggregate))
            {
                throw Refuse(SqlErrorCodes.NotAggregate, $"output '{OutputName(item)}' is neither a GROUP BY expression nor an aggregate");
            }

            CheckAroundAggregates(item);
            var outputName = OutputName(item);
            if (outputName.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
            {
                throw Refuse(SqlErrorCodes.ReservedName, $"output name '{outputName}' uses the reserved prefix {ReservedPrefix}");
            }

            outputs.Add(outputName);
            var rendered = Render(item);
            described.Add(string.Equals(rendered, outputName, StringComparison.Ordinal) ? outputName : $"{outputName} = {rendered}");
        }

        if (groupKeys.Count == 0 && !hasAggregate)
        {
            throw Refuse(SqlErrorCodes.NotAggregate, "the query does not aggregate; every output must be a GROUP BY expression or an aggregate");
        }

        CheckModifiers(node, groupKeys, selectList.GetArrayLength());

        var references = _scope.Select(s => s.Reference).ToArray();
        return SqlAnalysis.Allowed(
            _sql,
            references,
            _columns.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
            _joins.ToArray(),
            outputs,
            groupBy,
            Summarize(references, described, groupBy));
    }

    private string Summarize(IReadOnlyList<TableReference> references, IReadOnlyList<string> outputs, IReadOnlyList<string> groupBy)
    {
        var text = new StringBuilder();
        text.Append("Reads ").Append(string.Join(", ", references.Select(r =>
            string.Equals(r.Table, r.Alias, StringComparison.OrdinalIgnoreCase) ? r.Table : $"{r.Table} (as {r.Alias})")));
        if (_joins.Count > 0)
        {
            text.Append(", joined on ").Append(string.Join(" and ", _joins));
        }

        text.Append(". ");
        if (_filters.Count > 0)
        {
            text.Append("Keeps rows where ").Append(string.Join(" and ", _filters)).Append(". ");
        }

        text.Append(groupBy.Count > 0 ? "Groups by " + string.Join(", ", groupBy) + " and reports " : "Reports one overall row with ");
        text.Append(string.Join(", ", outputs)).Append('.');
        if (_usedParameters.Count > 0)
        {
            text.Append(" Parameters: ").Append(string.Join(", ", _usedParameters.Select(p => "$" + p))).Append('.');
        }

        text.Append(" Columns used: ").Append(string.Join(", ", _columns.Distinct(StringComparer.OrdinalIgnoreCase))).Append('.');
        return text.ToString();
    }

    // ---- FROM and joins ----

    private void BindFrom(JsonElement table)
    {
        if (!IsNull(table, "sample"))
        {
            throw Refuse(SqlErrorCodes.ForbiddenClause, "TABLESAMPLE is not allowed");
        }

        switch (String(table, "type"))
        {
            case "EMPTY":
                return;
            case "BASE_TABLE":
                BindBaseTable(table);
                return;
            case "JOIN":
                BindFrom(Object(table, "left"));
                BindFrom(Object(table, "right"));
                return;
            case "TABLE_FUNCTION":
                throw Refuse(SqlErrorCodes.TableFunction, "table functions in FROM (read_csv, read_parquet, glob, …) are not allowed; read only the contract's tables");
            case "SUBQUERY":
                throw Refuse(SqlErrorCodes.Subquery, "subqueries in FROM are not supported yet; use the contract's tables directly");
            case var other:
                throw Refuse(SqlErrorCodes.ForbiddenClause, $"FROM item of kind {other} is not allowed");
        }
    }

    private void BindBaseTable(JsonElement table)
    {
        var name = String(table, "table_name");
        if (OptionalString(table, "schema_name").Length > 0 || OptionalString(table, "catalog_name").Length > 0)
        {
            throw Refuse(SqlErrorCodes.UnknownTable, $"table '{name}' must be named without a schema or catalog");
        }

        if (!IsNull(table, "at_clause"))
        {
            throw Refuse(SqlErrorCodes.ForbiddenClause, "time-travel (AT) clauses are not allowed");
        }

        if (table.TryGetProperty("column_name_alias", out var renames) && renames.GetArrayLength() > 0)
        {
            throw Refuse(SqlErrorCodes.ForbiddenClause, $"column renaming in the alias of table '{name}' is not allowed");
        }

        var schema = _catalog.Datasets.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw Refuse(SqlErrorCodes.UnknownTable, $"table '{name}' is not a dataset of this contract");
        var alias = Alias(table);
        if (alias.Length == 0)
        {
            alias = name;
        }

        if (alias.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw Refuse(SqlErrorCodes.ReservedName, $"table alias '{alias}' uses the reserved prefix {ReservedPrefix}");
        }

        if (_scope.Any(s => string.Equals(s.Reference.Alias, alias, StringComparison.OrdinalIgnoreCase)))
        {
            throw Refuse(SqlErrorCodes.DuplicateAlias, $"the name '{alias}' is bound to two tables; give each table reference its own alias");
        }

        _scope.Add((new TableReference(schema.Name, alias, schema.PrivacyUnitColumn), schema));
    }

    private void CheckJoins(JsonElement table)
    {
        if (String(table, "type") != "JOIN")
        {
            return;
        }

        var left = Object(table, "left");
        var right = Object(table, "right");
        CheckJoins(left);
        CheckJoins(right);

        var joinType = String(table, "join_type");
        var refType = String(table, "ref_type");
        if (refType != "REGULAR")
        {
            throw Refuse(SqlErrorCodes.JoinType, $"{refType} joins are not allowed; use INNER or LEFT JOIN … ON declared join columns");
        }

        if (joinType is not ("INNER" or "LEFT"))
        {
            throw Refuse(SqlErrorCodes.JoinType, $"{joinType} joins are not allowed; use INNER or LEFT JOIN");
        }

        if (table.TryGetProperty("using_columns", out var usingColumns) && usingColumns.GetArrayLength() > 0)
        {
            throw Refuse(SqlErrorCodes.JoinNotDeclared, "JOIN … USING is not supported; write ON a.column = b.column with declared join columns");
        }

        if (IsNull(table, "condition"))
        {
            throw Refuse(SqlErrorCodes.JoinNotDeclared, "a join needs an ON condition between declared join columns");
        }

        var leftAliases = AliasesOf(left);
        var rightAliases = AliasesOf(right);
        var descriptions = new List<string>();
        CheckJoinCondition(table.GetProperty("condition"), leftAliases, rightAliases, descriptions);
        _joins.Add($"{joinType} {string.Join(" AND ", descriptions)}");
    }

    private void CheckJoinCondition(JsonElement condition, HashSet<string> leftAliases, HashSet<string> rightAliases, List<string> descriptions)
    {
        var type = String(condition, "type");
        if (type == "CONJUNCTION_AND")
        {
            foreach (var child in Array(condition, "children").EnumerateArray())
            {
                CheckJoinCondition(child, leftAliases, rightAliases, descriptions);
            }

            return;
        }

        if (type != "COMPARE_EQUAL"
            || String(Object(condition, "left"), "class") != "COLUMN_REF"
            || String(Object(condition, "right"), "class") != "COLUMN_REF")
        {
            throw Refuse(SqlErrorCodes.JoinNotDeclared, "join conditions may only be equalities between declared join columns, combined with AND");
        }

        var a = ResolveColumn(condition.GetProperty("left"));
        var b = ResolveColumn(condition.GetProperty("right"));
        foreach (var (reference, schema, column) in new[] { a, b })
        {
            if (!schema.JoinColumns.Contains(column, StringComparer.OrdinalIgnoreCase))
            {
                throw Refuse(SqlErrorCodes.JoinNotDeclared, $"{reference.Table}.{column} is not a declared join column");
            }

            RecordColumn(reference, column);
        }

        var crossesSides = (leftAliases.Contains(a.Reference.Alias) && rightAliases.Contains(b.Reference.Alias))
            || (rightAliases.Contains(a.Reference.Alias) && leftAliases.Contains(b.Reference.Alias));
        if (!crossesSides)
        {
            throw Refuse(SqlErrorCodes.JoinNotDeclared, "each join equality must compare a column of one side of the join with a column of the other side");
        }

        // DuckDB compares columns of different types through an implicit cast that raises on a value it cannot convert
        // ('x' or '5000000-01-01'), and a join condition cannot run under TRY: the job would fail only when such a row
        // survives the filters, an error oracle on one person's row. Only types that convert without fail may meet.
        var typeA = ColumnType(a.Schema, a.Column);
        var typeB = ColumnType(b.Schema, b.Column);
        if (!JoinTypesMatch(typeA, typeB))
        {
            throw Refuse(SqlErrorCodes.JoinNotDeclared,
                $"{a.Reference.Table}.{a.Column} ({typeA}) and {b.Reference.Table}.{b.Column} ({typeB}) have different types; a join compares columns of the same declared type only");
        }

        descriptions.Add($"{a.Reference.Alias}.{a.Column} = {b.Reference.Alias}.{b.Column}");
    }

    private static string ColumnType(DatasetSchema schema, string column) =>
        schema.Columns.First(c => string.Equals(c.Name, column, StringComparison.OrdinalIgnoreCase)).Type
            .Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>The same declared type, or INTEGER with BIGINT (widened without fail); anything else may raise in the cast.</summary>
    private static bool JoinTypesMatch(string a, string b) =>
        a == b || ((a is "INTEGER" or "BIGINT") && (b is "INTEGER" or "BIGINT"));

    private HashSet<string> AliasesOf(JsonElement table)
    {
        var aliases = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        Collect(table);
        return aliases;

        void Collect(JsonElement t)
        {
            switch (String(t, "type"))
            {
                case "BASE_TABLE":
                    var alias = Alias(t);
                    aliases.Add(alias.Length > 0 ? alias : String(t, "table_name"));
                    break;
                case "JOIN":
                    Collect(Object(t, "left"));
                    Collect(Object(t, "right"));
                    break;
            }
        }
    }

    private void CheckGroupingSets(JsonElement node, int groupCount)
    {
        var sets = Array(node, "group_sets");
        if (groupCount == 0 && sets.GetArrayLength() == 0)
        {
            return;
        }

        // Plain GROUP BY a, b is exactly one grouping set holding every expression; anything else is ROLLUP/CUBE/GROUPING SETS.
        var plain = sets.GetArrayLength() == 1
            && sets[0].GetArrayLength() == groupCount
            && sets[0].EnumerateArray().Select(e => e.GetInt32()).Order().SequenceEqual(Enumerable.Range(0, groupCount));
        if (!plain)
        {
            throw Refuse(SqlErrorCodes.GroupingSets, "ROLLUP, CUBE and GROUPING SETS are not allowed: overlapping groups can be differenced to isolate a person");
        }
    }

    private void CheckModifiers(JsonElement node, List<string> groupKeys, int outputCount)
    {
        if (!node.TryGetProperty("modifiers", out var modifiers))
        {
            return;
        }

        foreach (var modifier in modifiers.EnumerateArray())
        {
            switch (String(modifier, "type"))
            {
                case "ORDER_MODIFIER":
                    foreach (var order in Array(modifier, "orders").EnumerateArray())
                    {
                        var expression = Object(order, "expression");
                        // ORDER BY 1 is a position in the output. Any other constant or a parameter DuckDB refuses when the query
                        // runs, on every run: refused here, so that approvers are not asked to approve what can never run.
                        if (String(expression, "class") == "CONSTANT")
                        {
                            if (!IsOutputPosition(expression, outputCount))
                            {
                                throw Refuse(SqlErrorCodes.ForbiddenClause, $"ORDER BY a constant must be an output position, 1 to {outputCount}");
                            }

                            continue;
                        }

                        if (String(expression, "class") == "PARAMETER")
                        {
                            throw Refuse(SqlErrorCodes.ForbiddenClause, "ORDER BY a parameter is not allowed: order by an output, a GROUP BY expression or an aggregate");
                        }

                        var target = ResolveOutputAlias(expression) ?? expression;
                        Validate(target, Clause.OrderBy, 0);
                        var ignored = false;
                        if (!IsAggregateSafe(target, groupKeys, ref ignored))
                        {
                            throw Refuse(SqlErrorCodes.NotAggregate, "ORDER BY may only use outputs, GROUP BY expressions or aggregates");
                        }

                        CheckAroundAggregates(target);
                    }

                    break;
                case "DISTINCT_MODIFIER":
                    throw Refuse(SqlErrorCodes.ForbiddenClause, "SELECT DISTINCT is not allowed; use GROUP BY");
                case "LIMIT_MODIFIER":
                case "LIMIT_PERCENT_MODIFIER":
                    throw Refuse(SqlErrorCodes.ForbiddenClause, "LIMIT/OFFSET is not allowed: which groups fall under the limit would depend on suppressed groups");
                case var other:
                    throw Refuse(SqlErrorCodes.ForbiddenClause, $"{other} is not allowed");
            }
        }
    }

    private static bool IsOutputPosition(JsonElement constant, int outputCount) =>
        constant.TryGetProperty("value", out var value)
        && value.TryGetProperty("is_null", out var isNull) && isNull.ValueKind == JsonValueKind.False
        && value.TryGetProperty("type", out var type) && type.TryGetProperty("id", out var id) && id.GetString() is "INTEGER" or "BIGINT"
        && value.TryGetProperty("value", out var position) && position.ValueKind == JsonValueKind.Number
        && position.TryGetInt64(out var p) && p >= 1 && p <= outputCount;

    // ---- expressions ----

    private JsonElement? ResolveOutputAlias(JsonElement expression)
    {
        if (String(expression, "class") != "COLUMN_REF")
        {
            return null;
        }

        var names = Array(expression, "column_names");
        if (names.GetArrayLength() != 1)
        {
            return null;
        }

        var name = names[0].GetString() ?? "";
        var isTableColumn = _scope.Any(s => s.Schema.Columns.Any(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)));
        return !isTableColumn && _selectAliases.TryGetValue(name, out var item) ? item : null;
    }

    private void Validate(JsonElement e, Clause clause, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Refuse(SqlErrorCodes.ForbiddenExpression, "expression is nested too deeply");
        }

        var next = depth + 1;
        var cls = String(e, "class");
        switch (cls)
        {
            case "COLUMN_REF":
                ValidateColumn(e, clause);
                return;
            case "CONSTANT":
                return;
            case "PARAMETER":
                var identifier = String(e, "identifier");
                if (!_parameters.Any(p => p.Name == identifier))
                {
                    throw Refuse(SqlErrorCodes.UndeclaredParameter, $"parameter ${identifier} is not declared (positional ? and $1 parameters are not allowed)");
                }

                _usedParameters.Add(identifier);
                return;
            case "FUNCTION":
                ValidateFunction(e, clause, next);
                return;
            case "CAST":
                var castType = String(Object(e, "cast_type"), "id");
                if (!CastTypes.Contains(castType))
                {
                    throw Refuse(SqlErrorCodes.ForbiddenFunction, $"cast to {castType} is not allowed; cast only to simple scalar types");
                }

                // A CAST that fails on one person's row would fail the whole job: an error oracle.
                // TRY_CAST yields NULL instead, so the outcome never depends on a single row.
                if (!e.TryGetProperty("try_cast", out var tryCast) || tryCast.ValueKind != JsonValueKind.True)
                {
                    throw Refuse(SqlErrorCodes.ForbiddenFunction, $"CAST(… AS {castType}) can fail on a single row and reveal it; use TRY_CAST, which yields NULL instead");
                }

                Validate(Object(e, "child"), clause, next);
                return;
            case "CASE":
                foreach (var check in Array(e, "case_checks").EnumerateArray())
                {
                    Validate(Object(check, "when_expr"), clause, next);
                    Validate(Object(check, "then_expr"), clause, next);
                }

                Validate(Object(e, "else_expr"), clause, next);
                return;
            case "COMPARISON":
                Validate(Object(e, "left"), clause, next);
                Validate(Object(e, "right"), clause, next);
                return;
            case "BETWEEN":
                Validate(Object(e, "input"), clause, next);
                Validate(Object(e, "lower"), clause, next);
                Validate(Object(e, "upper"), clause, next);
                return;
            case "CONJUNCTION":
                ValidateChildren(e, clause, next);
                return;
            case "OPERATOR":
                var type = String(e, "type");
                if (!OperatorTypes.Contains(type))
                {
                    throw Refuse(SqlErrorCodes.ForbiddenFunction, $"operator {type} is not allowed");
                }

                if (type is "OPERATOR_IS_NULL" or "OPERATOR_IS_NOT_NULL" && clause == Clause.Where && IsPrivacyUnitRef(Array(e, "children")[0]))
                {
                    return; // WHERE unit IS [NOT] NULL selects no one in particular.
                }

                ValidateChildren(e, clause, next);
                return;
            case "WINDOW":
                throw Refuse(SqlErrorCodes.WindowFunction, $"window function {OptionalString(e, "function_name")}(…) OVER is not allowed");
            case "SUBQUERY":
                throw Refuse(SqlErrorCodes.Subquery, "subqueries (IN/EXISTS/scalar) are not supported yet");
            case "STAR":
                throw Refuse(SqlErrorCodes.SelectStar, e.TryGetProperty("columns", out var c) && c.ValueKind == JsonValueKind.True
                    ? "COLUMNS(…) is not allowed; name each output column"
                    : "SELECT * is not allowed; name each output column");
            default:
                throw Refuse(SqlErrorCodes.ForbiddenExpression, $"expression of kind {cls} is not allowed");
        }
    }

    private void ValidateChildren(JsonElement e, Clause clause, int depth)
    {
        foreach (var child in Array(e, "children").EnumerateArray())
        {
            Validate(child, clause, depth);
        }
    }

    private void ValidateFunction(JsonElement e, Clause clause, int depth)
    {
        var name = String(e, "function_name").ToLowerInvariant();
        if (OptionalString(e, "schema").Length > 0 || OptionalString(e, "catalog").Length > 0)
        {
            throw Refuse(SqlErrorCodes.ForbiddenFunction, $"function {name} may not be schema-qualified");
        }

        if (e.TryGetProperty("export_state", out var export) && export.ValueKind == JsonValueKind.True)
        {
            throw Refuse(SqlErrorCodes.ForbiddenFunction, "EXPORT_STATE is not allowed");
        }

        if (e.TryGetProperty("order_bys", out var orderBys) && orderBys.ValueKind == JsonValueKind.Object
            && Array(orderBys, "orders").GetArrayLength() > 0)
        {
            throw Refuse(SqlErrorCodes.ForbiddenFunction, $"ORDER BY inside {name}(…) is not allowed");
        }

        var distinct = e.TryGetProperty("distinct", out var d) && d.ValueKind == JsonValueKind.True;
        var children = Array(e, "children");

        if (Aggregates.Contains(name))
        {
            if (clause is Clause.Where or Clause.GroupBy or Clause.Join)
            {
                throw Refuse(SqlErrorCodes.AggregateMisuse, $"aggregate {name} is not allowed in {ClauseName(clause)}");
            }

            if (clause == Clause.AggregateArgument)
            {
                throw Refuse(SqlErrorCodes.AggregateMisuse, $"nested aggregate {name} is not allowed");
            }

            if (distinct && name != "count")
            {
                throw Refuse(SqlErrorCodes.AggregateMisuse, $"DISTINCT is only allowed in count, not in {name}");
            }

            var arity = name == "count_star" ? 0 : 1;
            if (children.GetArrayLength() != arity)
            {
                throw Refuse(SqlErrorCodes.AggregateMisuse, $"{name} takes {arity} argument(s)");
            }

            if (!IsNull(e, "filter"))
            {
                Validate(e.GetProperty("filter"), Clause.Where, depth);
            }

            foreach (var child in children.EnumerateArray())
            {
                // count(unit) and count(DISTINCT unit) are how analysts count people; any other use of the unit
                // inside an aggregate (min/max/sum of an id, or a CASE on it) could reveal or target an identifier.
                if (name == "count" && IsPrivacyUnitRef(child))
                {
                    RecordColumn(ResolveColumn(child));
                    continue;
                }

                Validate(child, Clause.AggregateArgument, depth);
            }

            return;
        }

        if (!ScalarFunctions.Contains(name))
        {
            throw Refuse(SqlErrorCodes.ForbiddenFunction, $"function {name} is not on the allow-list");
        }

        if (distinct || !IsNull(e, "filter"))
        {
            throw Refuse(SqlErrorCodes.ForbiddenFunction, $"DISTINCT/FILTER on scalar function {name} is not allowed");
        }

        foreach (var child in children.EnumerateArray())
        {
            Validate(child, clause, depth);
        }
    }

    private void ValidateColumn(JsonElement e, Clause clause)
    {
        var resolved = ResolveColumn(e);
        if (string.Equals(resolved.Column, resolved.Reference.PrivacyUnitColumn, StringComparison.OrdinalIgnoreCase))
        {
            throw clause == Clause.Where
                ? Refuse(SqlErrorCodes.PrivacyUnitLiteral, $"the privacy unit column {resolved.Reference.Alias}.{resolved.Column} may not be compared or computed on in filters (only IS [NOT] NULL)")
                : Refuse(SqlErrorCodes.PrivacyUnitInOutput, $"the privacy unit column {resolved.Reference.Alias}.{resolved.Column} may only appear as count({resolved.Column}) or count(DISTINCT {resolved.Column}), or in a join condition; here it is in {ClauseName(clause)}");
        }

        RecordColumn(resolved);
    }

    private bool IsPrivacyUnitRef(JsonElement e)
    {
        if (String(e, "class") != "COLUMN_REF")
        {
            return false;
        }

        var resolved = ResolveColumn(e);
        return string.Equals(resolved.Column, resolved.Reference.PrivacyUnitColumn, StringComparison.OrdinalIgnoreCase);
    }

    private (TableReference Reference, DatasetSchema Schema, string Column) ResolveColumn(JsonElement e)
    {
        var names = Array(e, "column_names").EnumerateArray().Select(n => n.GetString() ?? "").ToArray();
        switch (names.Length)
        {
            case 1:
                var matches = _scope
                    .Select(s => (s.Reference, s.Schema, Column: s.Schema.Columns.FirstOrDefault(c => string.Equals(c.Name, names[0], StringComparison.OrdinalIgnoreCase))))
                    .Where(m => m.Column is not null)
                    .ToArray();
                if (matches.Length == 0)
                {
                    throw Refuse(SqlErrorCodes.UndeclaredColumn, $"column '{names[0]}' is not declared in any dataset of the query");
                }

                if (matches.Length > 1)
                {
                    throw Refuse(SqlErrorCodes.AmbiguousColumn, $"column '{names[0]}' exists in {string.Join(" and ", matches.Select(m => m.Reference.Alias))}; qualify it");
                }

                return (matches[0].Reference, matches[0].Schema, matches[0].Column!.Name);
            case 2:
                var scope = _scope.FirstOrDefault(s => string.Equals(s.Reference.Alias, names[0], StringComparison.OrdinalIgnoreCase));
                if (scope.Reference is null)
                {
                    throw Refuse(SqlErrorCodes.UndeclaredColumn, $"'{names[0]}.{names[1]}' does not name a table in FROM");
                }

                var column = scope.Schema.Columns.FirstOrDefault(c => string.Equals(c.Name, names[1], StringComparison.OrdinalIgnoreCase))
                    ?? throw Refuse(SqlErrorCodes.UndeclaredColumn, $"column '{names[1]}' is not declared in dataset {scope.Reference.Table}");
                return (scope.Reference, scope.Schema, column.Name);
            default:
                throw Refuse(SqlErrorCodes.UndeclaredColumn, $"'{string.Join('.', names)}' is not allowed; use column or alias.column");
        }
    }

    private void RecordColumn((TableReference Reference, DatasetSchema Schema, string Column) resolved) =>
        RecordColumn(resolved.Reference, resolved.Column);

    private void RecordColumn(TableReference reference, string column) => _columns.Add($"{reference.Table}.{column}");

    /// <summary>True when every column reference in <paramref name="e"/> sits inside an aggregate or a GROUP BY expression.</summary>
    private bool IsAggregateSafe(JsonElement e, List<string> groupKeys, ref bool hasAggregate)
    {
        if (groupKeys.Contains(Canonical(e)))
        {
            return true;
        }

        var cls = String(e, "class");
        if (cls == "FUNCTION" && Aggregates.Contains(String(e, "function_name").ToLowerInvariant()))
        {
            hasAggregate = true;
            return true;
        }

        if (cls == "COLUMN_REF")
        {
            return false;
        }

        if (cls is "CONSTANT" or "PARAMETER")
        {
            return true;
        }

        foreach (var child in ChildExpressions(e))
        {
            if (!IsAggregateSafe(child, groupKeys, ref hasAggregate))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Refuses an expression in which anything but DOUBLE arithmetic stands between an aggregate and the output. After
    /// aggregation nothing runs under TRY (DuckDB refuses TRY around an aggregate); the guard reads an aggregate inside a
    /// larger expression as DOUBLE, whose arithmetic saturates instead of raising. A cast to another type, a comparison or
    /// CASE, a string or date function could raise for some values only (say TRY_CAST(count(*) FILTER (WHERE …) AS BIGINT)
    /// + 9223372036854775807, or length(…) + a large constant): the run would fail only when one person exists.
    /// </summary>
    /// <returns>Whether <paramref name="e"/> contains an aggregate.</returns>
    private static bool CheckAroundAggregates(JsonElement e)
    {
        var cls = String(e, "class");
        if (cls == "FUNCTION" && Aggregates.Contains(String(e, "function_name").ToLowerInvariant()))
        {
            return true; // its arguments run before aggregation, under TRY
        }

        var containsAggregate = false;
        foreach (var child in ChildExpressions(e))
        {
            containsAggregate |= CheckAroundAggregates(child);
        }

        var allowed = cls switch
        {
            "FUNCTION" => AfterAggregateFunctions.Contains(String(e, "function_name")),
            "CAST" => String(Object(e, "cast_type"), "id") is "DOUBLE" or "FLOAT",
            "OPERATOR" => String(e, "type") == "OPERATOR_COALESCE",
            _ => false,
        };
        if (containsAggregate && !allowed)
        {
            throw Refuse(SqlErrorCodes.ForbiddenExpression,
                $"'{Render(e)}' is applied to an aggregate: after aggregation only arithmetic, {string.Join(", ", AfterAggregateFunctions.Where(f => char.IsLetter(f[0])))} and TRY_CAST to DOUBLE may surround an aggregate (anything else could fail for some values only)");
        }

        return containsAggregate;
    }

    private static IEnumerable<JsonElement> ChildExpressions(JsonElement e)
    {
        foreach (var name in new[] { "child", "left", "right", "input", "lower", "upper", "else_expr" })
        {
            if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object)
            {
                yield return v;
            }
        }

        if (e.TryGetProperty("children", out var children) && children.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in children.EnumerateArray())
            {
                yield return c;
            }
        }

        if (e.TryGetProperty("case_checks", out var checks) && checks.ValueKind == JsonValueKind.Array)
        {
            foreach (var check in checks.EnumerateArray())
            {
                yield return check.GetProperty("when_expr");
                yield return check.GetProperty("then_expr");
            }
        }
    }

    /// <summary>A comparison key for expressions: positions and aliases dropped, column references resolved to their table.</summary>
    private string Canonical(JsonElement e)
    {
        var text = new StringBuilder();
        Write(e);
        return text.ToString();

        void Write(JsonElement v)
        {
            switch (v.ValueKind)
            {
                case JsonValueKind.Object:
                    if (v.TryGetProperty("class", out var cls) && cls.GetString() == "COLUMN_REF")
                    {
                        var r = ResolveColumn(v);
                        text.Append("col(").Append(r.Reference.Alias.ToLowerInvariant()).Append('.').Append(r.Column.ToLowerInvariant()).Append(')');
                        return;
                    }

                    text.Append('{');
                    foreach (var p in v.EnumerateObject())
                    {
                        if (p.Name is "query_location" or "alias")
                        {
                            continue;
                        }

                        text.Append(p.Name).Append(':');
                        Write(p.Value);
                        text.Append(',');
                    }

                    text.Append('}');
                    return;
                case JsonValueKind.Array:
                    text.Append('[');
                    foreach (var item in v.EnumerateArray())
                    {
                        Write(item);
                        text.Append(',');
                    }

                    text.Append(']');
                    return;
                default:
                    text.Append(v.GetRawText());
                    return;
            }
        }
    }

    private string OutputName(JsonElement item)
    {
        var alias = Alias(item);
        return alias.Length > 0 ? alias : Render(item);
    }

    /// <summary>Human-readable SQL-like text of an already validated expression, for approvers.</summary>
    private static string Render(JsonElement e)
    {
        switch (OptionalString(e, "class"))
        {
            case "COLUMN_REF":
                return string.Join('.', Array(e, "column_names").EnumerateArray().Select(n => n.GetString()));
            case "CONSTANT":
                var value = Object(e, "value");
                if (value.TryGetProperty("is_null", out var isNull) && isNull.ValueKind == JsonValueKind.True)
                {
                    return "NULL";
                }

                var raw = value.GetProperty("value");
                return raw.ValueKind == JsonValueKind.String ? "'" + raw.GetString()!.Replace("'", "''", StringComparison.Ordinal) + "'" : raw.GetRawText();
            case "PARAMETER":
                return "$" + String(e, "identifier");
            case "FUNCTION":
                var name = String(e, "function_name");
                var args = Array(e, "children").EnumerateArray().Select(Render).ToArray();
                if (name == "count_star")
                {
                    return "count(*)";
                }

                if (args.Length == 2 && !char.IsLetter(name[0]))
                {
                    var op = name switch { "~~" => "LIKE", "!~~" => "NOT LIKE", "~~*" => "ILIKE", "!~~*" => "NOT ILIKE", _ => name };
                    return $"({args[0]} {op} {args[1]})";
                }

                var distinct = e.TryGetProperty("distinct", out var d) && d.ValueKind == JsonValueKind.True ? "DISTINCT " : "";
                // An aggregate's FILTER decides which rows it reads: approvers must see it (it can single out one person).
                var filter = e.TryGetProperty("filter", out var f) && f.ValueKind == JsonValueKind.Object ? $" FILTER (WHERE {Render(f)})" : "";
                return $"{name}({distinct}{string.Join(", ", args)}){filter}";
            case "CAST":
                return $"TRY_CAST({Render(Object(e, "child"))} AS {String(Object(e, "cast_type"), "id")})";
            case "COMPARISON":
                var comparison = String(e, "type") switch
                {
                    "COMPARE_EQUAL" => "=", "COMPARE_NOTEQUAL" => "<>", "COMPARE_LESSTHAN" => "<", "COMPARE_GREATERTHAN" => ">",
                    "COMPARE_LESSTHANOREQUALTO" => "<=", "COMPARE_GREATERTHANOREQUALTO" => ">=",
                    "COMPARE_DISTINCT_FROM" => "IS DISTINCT FROM", "COMPARE_NOT_DISTINCT_FROM" => "IS NOT DISTINCT FROM", var t => t,
                };
                return $"{Render(Object(e, "left"))} {comparison} {Render(Object(e, "right"))}";
            case "CONJUNCTION":
                var joiner = String(e, "type") == "CONJUNCTION_AND" ? " AND " : " OR ";
                return "(" + string.Join(joiner, Array(e, "children").EnumerateArray().Select(Render)) + ")";
            case "BETWEEN":
                return $"{Render(Object(e, "input"))} BETWEEN {Render(Object(e, "lower"))} AND {Render(Object(e, "upper"))}";
            case "CASE":
                var whens = Array(e, "case_checks").EnumerateArray()
                    .Select(c => $"WHEN {Render(c.GetProperty("when_expr"))} THEN {Render(c.GetProperty("then_expr"))}");
                return $"CASE {string.Join(' ', whens)} ELSE {Render(Object(e, "else_expr"))} END";
            case "OPERATOR":
                var children = Array(e, "children").EnumerateArray().Select(Render).ToArray();
                return String(e, "type") switch
                {
                    "OPERATOR_NOT" => $"NOT {children[0]}",
                    "OPERATOR_IS_NULL" => $"{children[0]} IS NULL",
                    "OPERATOR_IS_NOT_NULL" => $"{children[0]} IS NOT NULL",
                    "COMPARE_IN" => $"{children[0]} IN ({string.Join(", ", children.Skip(1))})",
                    "COMPARE_NOT_IN" => $"{children[0]} NOT IN ({string.Join(", ", children.Skip(1))})",
                    "OPERATOR_COALESCE" => $"coalesce({string.Join(", ", children)})",
                    var t => t,
                };
            default:
                return "expression";
        }
    }

    private static string ClauseName(Clause clause) => clause switch
    {
        Clause.Select => "the select list",
        Clause.Where => "WHERE",
        Clause.GroupBy => "GROUP BY",
        Clause.OrderBy => "ORDER BY",
        Clause.Join => "a join condition",
        _ => "an aggregate argument",
    };

    // ---- JSON helpers: a missing or mistyped property means DuckDB's AST changed shape; refuse rather than guess ----

    private static string Alias(JsonElement e) => OptionalString(e, "alias");

    private static bool IsNull(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;

    private static void RequireNull(JsonElement e, string name, string code, string reason)
    {
        if (!IsNull(e, name))
        {
            throw Refuse(code, reason);
        }
    }

    private static string String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw Refuse(SqlErrorCodes.ForbiddenExpression, $"unexpected AST shape (missing '{name}')");

    private static string OptionalString(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static JsonElement Object(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? v
            : throw Refuse(SqlErrorCodes.ForbiddenExpression, $"unexpected AST shape (missing '{name}')");

    private static JsonElement Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v
            : throw Refuse(SqlErrorCodes.ForbiddenExpression, $"unexpected AST shape (missing '{name}')");

    private static RefusedException Refuse(string code, string reason) => new(code, reason);

    /// <summary>Unwinds the recursive walk on the first refusal; caught in <see cref="Run"/> and turned into a result.</summary>
    private sealed class RefusedException(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}

namespace CleanRoom.Privacy;

/// <summary>Stable error codes of <see cref="SqlAnalysis"/> refusals. Callers may switch on them; they never change meaning.</summary>
public static class SqlErrorCodes
{
    public const string ParseError = "sql.parse_error";
    public const string NotSelect = "sql.not_select";
    public const string MultipleStatements = "sql.multiple_statements";
    public const string SetOperation = "sql.set_operation";
    public const string Cte = "sql.cte";
    public const string Subquery = "sql.subquery";
    public const string TableFunction = "sql.table_function";
    public const string UnknownTable = "sql.unknown_table";
    public const string NoTable = "sql.no_table";
    public const string ForbiddenFunction = "sql.forbidden_function";
    public const string ForbiddenExpression = "sql.forbidden_expression";
    public const string ForbiddenClause = "sql.forbidden_clause";
    public const string PrivacyUnitInOutput = "sql.privacy_unit_in_output";
    public const string PrivacyUnitLiteral = "sql.privacy_unit_literal";
    public const string GroupingSets = "sql.grouping_sets";
    public const string WindowFunction = "sql.window_function";
    public const string JoinNotDeclared = "sql.join_not_declared";
    public const string JoinType = "sql.join_type";
    public const string UndeclaredColumn = "sql.undeclared_column";
    public const string AmbiguousColumn = "sql.ambiguous_column";
    public const string SelectStar = "sql.select_star";
    public const string NotAggregate = "sql.not_aggregate";
    public const string AggregateMisuse = "sql.aggregate_misuse";
    public const string UndeclaredParameter = "sql.undeclared_parameter";
    public const string ReservedName = "sql.reserved_name";
    public const string DuplicateAlias = "sql.duplicate_alias";
    public const string ParameterSpec = "sql.parameter_spec";
}

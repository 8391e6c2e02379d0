using System.Text.Json.Nodes;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// Helpers for rewriting DuckDB's JSON AST (<c>json_serialize_sql</c>). New nodes are never hand-written: they are cut from a
/// template that DuckDB itself parses, with placeholder column references (<c>__cr_hole0</c>, …) replaced by existing nodes,
/// so their shape follows the parser's version and no user text is ever spliced into SQL.
/// </summary>
internal static class AstNodes
{
    public const string HolePrefix = "__cr_hole";

    private static readonly string[] ChildProperties = ["child", "left", "right", "input", "lower", "upper", "else_expr"];

    private static readonly HashSet<string> AggregateNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "count", "count_star", "sum", "avg", "mean", "min", "max",
    };

    /// <summary>Parses <paramref name="sql"/> into a mutable AST, or throws if DuckDB reports an error (a caller bug).</summary>
    public static JsonNode Parse(SqlAnalyzer analyzer, string sql)
    {
        using var document = analyzer.Serialize(sql);
        var node = JsonNode.Parse(document.RootElement.GetRawText(), documentOptions: new() { MaxDepth = 1024 })!;
        if (node["error"]?.GetValue<bool>() != false)
        {
            throw new InvalidOperationException("DuckDB could not parse SQL the privacy engine produced.");
        }

        return node;
    }

    /// <summary>The SELECT node of a parsed single-statement query.</summary>
    public static JsonObject SelectNode(JsonNode root) => root["statements"]![0]!["node"]!.AsObject();

    /// <summary>
    /// The expression <paramref name="template"/> (SQL of one select item; identifiers already quoted) with each
    /// <c>__cr_holeN</c> column reference replaced by a copy of <paramref name="holes"/>[N].
    /// </summary>
    public static JsonNode Expression(SqlAnalyzer analyzer, string template, params JsonNode[] holes)
    {
        var item = SelectNode(Parse(analyzer, "SELECT " + template))["select_list"]![0]!;
        item.Parent!.AsArray().Clear();
        return Fill(item, holes);
    }

    /// <summary>The SQL text DuckDB prints for an expression (without its alias): the name DuckDB gives an unaliased output.</summary>
    public static string Print(SqlAnalyzer analyzer, JsonNode e)
    {
        var root = Parse(analyzer, "SELECT 1");
        var copy = e.DeepClone();
        TakeAlias(copy);
        SelectNode(root)["select_list"]![0] = copy;
        var text = analyzer.Deserialize(root.ToJsonString());
        return text.StartsWith("SELECT ", StringComparison.Ordinal) ? text["SELECT ".Length..] : text;
    }

    public static bool ContainsColumn(JsonNode e) =>
        e["class"]?.GetValue<string>() == "COLUMN_REF" || Children(e).Any(c => ContainsColumn(c.Get()));

    /// <summary>Wraps <paramref name="e"/> in DuckDB's <c>TRY(…)</c>, which yields NULL instead of raising for the row; plain column references, constants and parameters cannot raise and are left alone.</summary>
    public static JsonNode Try(SqlAnalyzer analyzer, JsonNode e)
    {
        var cls = e["class"]?.GetValue<string>();
        if (cls is "COLUMN_REF" or "CONSTANT" or "PARAMETER" || IsTry(e))
        {
            return e;
        }

        var alias = TakeAlias(e);
        var wrapped = Expression(analyzer, "TRY(" + HolePrefix + "0)", e);
        wrapped["alias"] = alias;
        return wrapped;
    }

    public static bool IsTry(JsonNode e) => e["class"]?.GetValue<string>() == "OPERATOR" && e["type"]?.GetValue<string>() == "OPERATOR_TRY";

    public static bool IsAggregate(JsonNode e) =>
        e["class"]?.GetValue<string>() == "FUNCTION" && AggregateNames.Contains(e["function_name"]?.GetValue<string>() ?? "");

    public static bool ContainsAggregate(JsonNode e) => IsAggregate(e) || Children(e).Any(c => ContainsAggregate(c.Get()));

    /// <summary>Removes and returns the node's alias (empty string when it has none).</summary>
    public static string TakeAlias(JsonNode e)
    {
        var alias = e["alias"]?.GetValue<string>() ?? "";
        if (e is JsonObject o && o.ContainsKey("alias"))
        {
            o["alias"] = "";
        }

        return alias;
    }

    /// <summary>A comparison key: the expression's JSON with source positions and aliases dropped.</summary>
    public static string Canonical(JsonNode e)
    {
        var copy = e.DeepClone();
        Strip(copy);
        return copy.ToJsonString();

        static void Strip(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    o.Remove("query_location");
                    o.Remove("alias");
                    foreach (var (_, v) in o.ToList())
                    {
                        Strip(v);
                    }

                    break;
                case JsonArray a:
                    foreach (var v in a)
                    {
                        Strip(v);
                    }

                    break;
            }
        }
    }

    /// <summary>The expression-valued children of <paramref name="e"/>, each with a setter that replaces it in place.</summary>
    public static IEnumerable<Slot> Children(JsonNode e)
    {
        if (e is not JsonObject o)
        {
            yield break;
        }

        foreach (var name in ChildProperties)
        {
            if (o[name] is JsonObject)
            {
                yield return new Slot(o, name);
            }
        }

        if (o["children"] is JsonArray children)
        {
            for (var i = 0; i < children.Count; i++)
            {
                yield return new Slot(children, i);
            }
        }

        if (o["case_checks"] is JsonArray checks)
        {
            foreach (var check in checks.OfType<JsonObject>())
            {
                yield return new Slot(check, "when_expr");
                yield return new Slot(check, "then_expr");
            }
        }
    }

    private static JsonNode Fill(JsonNode node, JsonNode[] holes)
    {
        if (node["class"]?.GetValue<string>() == "COLUMN_REF"
            && node["column_names"] is JsonArray names && names.Count == 1
            && names[0]!.GetValue<string>() is var name && name.StartsWith(HolePrefix, StringComparison.Ordinal))
        {
            return holes[int.Parse(name.AsSpan(HolePrefix.Length), System.Globalization.CultureInfo.InvariantCulture)].DeepClone();
        }

        foreach (var slot in Children(node).ToList())
        {
            slot.Set(Fill(slot.Get(), holes));
        }

        return node;
    }

    /// <summary>A place in the AST that holds one expression.</summary>
    internal readonly struct Slot
    {
        private readonly JsonObject? _owner;
        private readonly string? _name;
        private readonly JsonArray? _array;
        private readonly int _index;

        public Slot(JsonObject owner, string name)
        {
            _owner = owner;
            _name = name;
            _array = null;
            _index = 0;
        }

        public Slot(JsonArray array, int index)
        {
            _owner = null;
            _name = null;
            _array = array;
            _index = index;
        }

        public JsonNode Get() => (_owner is not null ? _owner[_name!] : _array![_index])!;

        public void Set(JsonNode value)
        {
            if (ReferenceEquals(value, Get()))
            {
                return;
            }

            if (value.Parent is not null)
            {
                value = value.DeepClone();
            }

            if (_owner is not null)
            {
                _owner[_name!] = value;
            }
            else
            {
                _array![_index] = value;
            }
        }
    }
}

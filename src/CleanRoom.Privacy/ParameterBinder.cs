using System.Globalization;

namespace CleanRoom.Privacy;

/// <summary>
/// Turns the analyst's run-time parameter strings into typed values inside each parameter's declared domain. Values are
/// parsed with the invariant culture, compared after parsing (so "1.0" and "1" are the same DECIMAL), and bound as
/// prepared-statement parameters by the caller — so <c>x' OR '1'='1</c> is only ever a literal, and refused unless it is
/// in the domain.
/// </summary>
public static class ParameterBinder
{
    public static ParameterValidationResult Validate(IReadOnlyDictionary<string, string> values, IReadOnlyList<QueryParameterSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(specs);

        var specError = CheckSpecs(specs);
        if (specError is not null)
        {
            return ParameterValidationResult.Invalid("param.spec_invalid", specError);
        }

        foreach (var name in values.Keys)
        {
            if (!specs.Any(s => s.Name == name))
            {
                return ParameterValidationResult.Invalid("param.unknown", $"parameter '{Printable(name)}' is not declared by the computation");
            }
        }

        var bound = new List<BoundParameter>(specs.Count);
        foreach (var spec in specs)
        {
            if (!values.TryGetValue(spec.Name, out var text) || text is null)
            {
                return ParameterValidationResult.Invalid("param.missing", $"parameter ${spec.Name} needs a value");
            }

            if (!TryParse(spec.Type, text, out var value))
            {
                return ParameterValidationResult.Invalid("param.type", $"the value of ${spec.Name} is not a valid {spec.Type}");
            }

            if (!InDomain(spec, value))
            {
                return ParameterValidationResult.Invalid("param.out_of_domain", $"the value of ${spec.Name} is outside its approved domain");
            }

            bound.Add(new BoundParameter(spec.Name, NormalizeType(spec.Type), value));
        }

        return ParameterValidationResult.Valid(bound);
    }

    /// <summary>Returns null when every spec is well-formed, else a one-line reason. Shared by the analyzer and the binder.</summary>
    internal static string? CheckSpecs(IReadOnlyList<QueryParameterSpec> specs)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec.Name.Length == 0 || spec.Name.Length > 64 || !(char.IsAsciiLetter(spec.Name[0]) || spec.Name[0] == '_')
                || !spec.Name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return $"parameter name '{Printable(spec.Name)}' must be an identifier (letters, digits, _; not starting with a digit)";
            }

            if (!names.Add(spec.Name))
            {
                return $"parameter ${spec.Name} is declared twice";
            }

            var type = NormalizeType(spec.Type);
            if (type is not ("VARCHAR" or "BIGINT" or "DOUBLE" or "DECIMAL" or "DATE" or "BOOLEAN"))
            {
                return $"parameter ${spec.Name} has unsupported type {Printable(spec.Type)}";
            }

            if (spec.AllowedValues is { } allowed)
            {
                if (allowed.Count == 0 || allowed.Any(v => v is null || !TryParse(type, v, out _)))
                {
                    return $"parameter ${spec.Name} has an empty allowed-value list or one that is not a valid {type}";
                }
            }
            else if (type == "VARCHAR")
            {
                return $"parameter ${spec.Name} is free text; a VARCHAR parameter needs an allowed-value list";
            }
            else if (type != "BOOLEAN")
            {
                if (spec.Min is null || spec.Max is null || !TryParse(type, spec.Min, out var min) || !TryParse(type, spec.Max, out var max)
                    || Compare(min, max) > 0)
                {
                    return $"parameter ${spec.Name} needs an allowed-value list or a valid Min ≤ Max";
                }
            }
        }

        return null;
    }

    private static string NormalizeType(string type)
    {
        var t = type.Trim().ToUpperInvariant();
        var paren = t.IndexOf('(', StringComparison.Ordinal);
        var baseType = paren >= 0 ? t[..paren].Trim() : t;
        return baseType switch
        {
            "TEXT" or "STRING" => "VARCHAR",
            "INTEGER" or "INT" or "BIGINT" or "INT64" or "SMALLINT" => "BIGINT",
            "DOUBLE" or "FLOAT8" => "DOUBLE",
            "DECIMAL" or "NUMERIC" => "DECIMAL",
            "BOOL" or "BOOLEAN" => "BOOLEAN",
            _ => baseType,
        };
    }

    private static bool TryParse(string type, string text, out object value)
    {
        value = "";
        switch (NormalizeType(type))
        {
            case "VARCHAR":
                value = text;
                return true;
            case "BIGINT" when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l):
                value = l;
                return true;
            case "DOUBLE" when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d):
                value = d;
                return true;
            case "DECIMAL" when decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var m):
                value = m;
                return true;
            case "DATE" when DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date):
                value = date;
                return true;
            case "BOOLEAN" when text is "true" or "false":
                value = text == "true";
                return true;
            default:
                return false;
        }
    }

    private static bool InDomain(QueryParameterSpec spec, object value)
    {
        if (spec.AllowedValues is { } allowed)
        {
            return allowed.Any(a => TryParse(spec.Type, a, out var candidate) && Compare(candidate, value) == 0);
        }

        if (spec.Min is null || spec.Max is null)
        {
            return value is bool; // only BOOLEAN may omit a domain (CheckSpecs enforces this)
        }

        return TryParse(spec.Type, spec.Min, out var min) && TryParse(spec.Type, spec.Max, out var max)
            && Compare(min, value) <= 0 && Compare(value, max) <= 0;
    }

    private static int Compare(object a, object b) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        (long x, long y) => x.CompareTo(y),
        (double x, double y) => x.CompareTo(y),
        (decimal x, decimal y) => x.CompareTo(y),
        (DateOnly x, DateOnly y) => x.CompareTo(y),
        (bool x, bool y) => x.CompareTo(y),
        _ => throw new InvalidOperationException("parameter values of different types compared"),
    };

    // Names are echoed in reasons; keep them printable and short. Values are never echoed.
    private static string Printable(string s)
    {
        var clean = new string(s.Where(c => !char.IsControl(c)).Take(64).ToArray());
        return clean;
    }
}

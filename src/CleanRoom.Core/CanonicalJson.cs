// RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by UTF-16 code
// units, no insignificant whitespace, minimal string escaping, numbers in the
// ECMAScript shortest round-trip form. Every signed statement in CleanRoom hashes or
// signs these bytes, so two parties serialising the same value agree byte for byte.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CleanRoom.Core;

public static class CanonicalJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
    };

    /// <summary>Serializes any value with web defaults (camelCase), then canonicalizes it.</summary>
    public static byte[] Serialize<T>(T value)
    {
        var element = JsonSerializer.SerializeToElement(value, s_options);
        return Canonicalize(element);
    }

    /// <summary>The canonical form of <paramref name="element"/>; throws JsonException if it cannot have one.</summary>
    /// <remarks>
    /// A string escape that is not valid UTF-16 (a lone surrogate such as <c>"\ud800"</c>) has no canonical form: refused
    /// as a JsonException like any other malformed input, never replaced (which would give two texts one hash).
    /// </remarks>
    public static byte[] Canonicalize(JsonElement element)
    {
        var builder = new StringBuilder();
        try
        {
            Write(builder, element);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("a JSON string is not valid UTF-16 (a lone surrogate), so it has no canonical form", ex);
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    public static byte[] Canonicalize(JsonNode? node)
    {
        using var doc = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        return Canonicalize(doc.RootElement);
    }

    public static string CanonicalizeToString(JsonElement element) => Encoding.UTF8.GetString(Canonicalize(element));

    /// <summary>Parses UTF-8 JSON and returns its canonical form; throws JsonException on malformed input.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        using var doc = JsonDocument.ParseValue(ref reader);
        return Canonicalize(doc.RootElement);
    }

    public static JsonSerializerOptions SerializerOptions => s_options;

    private static void Write(StringBuilder sb, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var p in element.EnumerateObject())
                {
                    members.Add((p.Name, p.Value));
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                for (var i = 1; i < members.Count; i++)
                {
                    if (members[i].Name == members[i - 1].Name)
                    {
                        throw new JsonException($"duplicate member '{members[i].Name}' is not allowed in canonical JSON");
                    }
                }

                sb.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    WriteString(sb, members[i].Name);
                    sb.Append(':');
                    Write(sb, members[i].Value);
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    Write(sb, item);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, element.GetString()!);
                break;
            case JsonValueKind.Number:
                WriteNumber(sb, element);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new JsonException("undefined JSON value");
        }
    }

    /// <summary>
    /// Whether <paramref name="value"/> keeps its exact value in canonical JSON, whose numbers are IEEE doubles (RFC 8785).
    /// A decimal with more significant digits than a double holds (about 15) would share its canonical form, and so its
    /// hash and every signature over it, with a different value: documents refuse such numbers.
    /// </summary>
    public static bool IsExact(decimal value) =>
        decimal.TryParse(FormatEcmaScript((double)value), NumberStyles.Float, CultureInfo.InvariantCulture, out var back) && back == value;

    private static void WriteNumber(StringBuilder sb, JsonElement element)
    {
        if (element.TryGetInt64(out var l))
        {
            sb.Append(l.ToString(CultureInfo.InvariantCulture));
            return;
        }

        var d = element.GetDouble();
        if (double.IsNaN(d) || double.IsInfinity(d))
        {
            throw new JsonException("NaN and Infinity are not valid JSON numbers");
        }

        sb.Append(FormatEcmaScript(d));
    }

    // ECMAScript Number.prototype.toString for finite doubles (RFC 8785 §3.2.2.3).
    internal static string FormatEcmaScript(double d)
    {
        if (d == 0)
        {
            return "0";
        }

        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        if (negative)
        {
            r = r[1..];
        }

        // Split the shortest round-trip form into digits and a decimal exponent.
        string mantissa;
        var exp = 0;
        var ePos = r.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            mantissa = r[..ePos];
            exp = int.Parse(r[(ePos + 1)..], CultureInfo.InvariantCulture);
        }
        else
        {
            mantissa = r;
        }

        var dot = mantissa.IndexOf('.');
        var digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        var pointPos = (dot >= 0 ? dot : mantissa.Length) + exp;
        var lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
            pointPos--;
        }

        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0)
        {
            return "0";
        }

        var k = digits.Length;
        var n = pointPos;
        string result;
        if (k <= n && n <= 21)
        {
            result = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            result = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            result = "0." + new string('0', -n) + digits;
        }
        else
        {
            var e = n - 1;
            var es = e >= 0 ? "+" + e.ToString(CultureInfo.InvariantCulture) : e.ToString(CultureInfo.InvariantCulture);
            result = k == 1 ? digits + "e" + es : digits[..1] + "." + digits[1..] + "e" + es;
        }

        return negative ? "-" + result : result;
    }

    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}

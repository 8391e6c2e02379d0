using System.Text;
using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Members_are_sorted_by_utf16_code_units_and_whitespace_removed() =>
        Assert.Equal("{\"a\":[1,{\"x\":true,\"y\":null}],\"b\":\"s\"}", Canon("{ \"b\" : \"s\", \"a\": [ 1, {\"y\":null, \"x\":true} ] }"));

    [Fact]
    public void Rfc8785_sorting_example_orders_non_ascii_keys_by_code_unit()
    {
        // RFC 8785 §3.2.3: "\u20ac" (euro) < "\r" is false; code-unit order puts "\r" first, then "1", then "\u0080"...
        var json = "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
        var keys = Canon(json);
        var order = new[] { "\\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33" };
        var last = -1;
        foreach (var k in order)
        {
            var at = keys.IndexOf("\"" + k + "\"", StringComparison.Ordinal);
            Assert.True(at > last, $"key {k} out of order in {keys}");
            last = at;
        }
    }

    [Theory]
    [InlineData("1e30", "1e+30")]
    [InlineData("4.50", "4.5")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("-0", "0")]
    [InlineData("333333333.33333329", "333333333.3333333")]
    [InlineData("100", "100")]
    [InlineData("1E21", "1e+21")]
    [InlineData("123456789012345680000", "123456789012345680000")]
    public void Numbers_use_the_ecmascript_form(string input, string expected) => Assert.Equal(expected, Canon(input));

    [Fact]
    public void Strings_escape_only_what_json_requires() =>
        Assert.Equal("\"\\u000f\\n\\\"é€\"", Canon("\"\\u000f\\u000a\\u0022\\u00e9\\u20ac\""));

    [Fact]
    public void Duplicate_members_are_refused() =>
        Assert.Throws<System.Text.Json.JsonException>(() => Canon("{\"a\":1,\"a\":2}"));

    [Theory]
    [InlineData("{\"a\":\"\\ud800\"}")]
    [InlineData("{\"a\":\"x\\udc00\"}")]
    [InlineData("{\"\\ud800\":1}")]
    [InlineData("[\"\\udc00\\ud800\"]")]
    public void A_lone_surrogate_has_no_canonical_form_and_is_refused_as_malformed(string json)
    {
        // Replacing it (with U+FFFD) would give two different texts one hash; and callers handle only JsonException.
        Assert.Throws<System.Text.Json.JsonException>(() => Canon(json));
        Assert.Equal("\"\ud83d\ude00\"", Canon("\"\\ud83d\\ude00\""));
    }
}

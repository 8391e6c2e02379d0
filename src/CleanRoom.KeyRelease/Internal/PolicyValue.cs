namespace CleanRoom.KeyRelease.Internal;

/// <summary>
/// A comparison value from a release policy (JSON string, number or boolean) and the comparison
/// rules against a token claim. Public SKR samples write booleans and integers as strings
/// ("false", "0"), and tokens sometimes carry numbers as strings, so both spellings compare.
/// Numbers compare exactly (<see cref="PolicyNumber"/>), never rounded.
/// Anything not comparable is "not met", never "not equal": a condition fails closed.
/// </summary>
internal sealed class PolicyValue
{
    private PolicyValue(JsonValueKind kind, string? text, PolicyNumber? number, bool? boolean)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Boolean = boolean;
    }

    public JsonValueKind Kind { get; }

    public string? Text { get; }

    /// <summary>The numeric reading: the JSON number, or a string that is a plain decimal numeral.</summary>
    public PolicyNumber? Number { get; }

    /// <summary>The boolean reading: the JSON literal, or the string "true"/"false" (any case).</summary>
    public bool? Boolean { get; }

    public static PolicyValue? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => FromString(element.GetString()!),
        JsonValueKind.Number => PolicyNumber.FromJsonNumber(element.GetRawText()) is { } n ? new PolicyValue(JsonValueKind.Number, null, n, null) : null,
        JsonValueKind.True => new PolicyValue(JsonValueKind.True, null, null, true),
        JsonValueKind.False => new PolicyValue(JsonValueKind.False, null, null, false),
        _ => null,
    };

    private static PolicyValue FromString(string text) =>
        new(JsonValueKind.String, text, PolicyNumber.FromNumericString(text), ParseBoolean(text));

    /// <summary>Equality; false when the two cannot be compared (the caller treats that as not met).</summary>
    public bool TryEquals(JsonElement claim, out bool equal)
    {
        equal = false;
        var other = FromJson(claim);
        if (other is null)
        {
            return false;
        }

        if (Kind == JsonValueKind.String && other.Kind == JsonValueKind.String)
        {
            equal = string.Equals(Text, other.Text, StringComparison.Ordinal);
            return true;
        }

        // Mixed or non-string kinds: compare on the reading the non-string side defines.
        if (IsBooleanKind(Kind) || IsBooleanKind(other.Kind))
        {
            if (Boolean is { } a && other.Boolean is { } b)
            {
                equal = a == b;
                return true;
            }

            return false;
        }

        if (Number is { } x && other.Number is { } y)
        {
            equal = x.CompareTo(y) == 0;
            return true;
        }

        return false;
    }

    /// <summary>Numeric ordering, claim compared with this value; false when either side is not numeric.</summary>
    public bool TryCompare(JsonElement claim, out int comparison)
    {
        comparison = 0;
        var other = FromJson(claim);
        if (other?.Number is not { } claimNumber || Number is not { } expected)
        {
            return false;
        }

        comparison = claimNumber.CompareTo(expected);
        return true;
    }

    private static bool IsBooleanKind(JsonValueKind kind) => kind is JsonValueKind.True or JsonValueKind.False;

    private static bool? ParseBoolean(string text) =>
        string.Equals(text, "true", StringComparison.OrdinalIgnoreCase) ? true
        : string.Equals(text, "false", StringComparison.OrdinalIgnoreCase) ? false
        : null;
}

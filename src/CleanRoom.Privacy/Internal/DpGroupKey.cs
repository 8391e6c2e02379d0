using System.Globalization;
using System.Numerics;
using System.Text;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// The group key of a DP output row: the group values as text, in GROUP BY order, each written as <c>-</c> for NULL or
/// <c>length:text</c>, so distinct value lists never collide, and a public group key written by an approver as strings
/// encodes to the same key as the data's values.
/// </summary>
internal static class DpGroupKey
{
    public static string Encode(IReadOnlyList<string?> values)
    {
        var text = new StringBuilder();
        foreach (var value in values)
        {
            if (value is null)
            {
                text.Append('-');
            }
            else
            {
                text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
            }
        }

        return text.ToString();
    }

    /// <summary>The text of a DuckDB value as DuckDB prints it for the common types (invariant culture).</summary>
    public static string? Format(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        bool b => b ? "true" : "false",
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.TimeOfDay == TimeSpan.Zero
            ? t.ToString("yyyy-MM-dd 00:00:00", CultureInfo.InvariantCulture)
            : t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        BigInteger i => i.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>Orders group value lists: NULL first, then by value when both have the same type, else by text (ordinal).</summary>
    public static int Compare(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            var c = CompareValue(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Count.CompareTo(b.Count);
    }

    private static int CompareValue(object? x, object? y)
    {
        if (x is null || y is null)
        {
            return (x is null ? 0 : 1) - (y is null ? 0 : 1);
        }

        if (x.GetType() == y.GetType() && x is IComparable comparable)
        {
            return comparable.CompareTo(y);
        }

        return string.CompareOrdinal(Format(x), Format(y));
    }
}

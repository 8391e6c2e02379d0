using System.Globalization;
using System.Numerics;

namespace CleanRoom.KeyRelease.Internal;

/// <summary>
/// An exact decimal number from a release policy or a token claim: <c>Mantissa × 10^Exponent</c>, normalized (no
/// trailing zeros in the mantissa; zero is 0 × 10^0) so equal values have equal fields. Compared exactly: reading claims
/// as <see cref="decimal"/> rounded past 28–29 significant digits, so 6.99999999999999999999999999999 met
/// "greaterOrEquals 7". Values whose text is longer than <see cref="MaxTextLength"/> or whose normalized exponent is
/// beyond ±<see cref="MaxExponent"/> are not read (not comparable, hence "not met"), which bounds the arithmetic.
/// </summary>
internal readonly record struct PolicyNumber
{
    public const int MaxTextLength = 1024;

    public const int MaxExponent = 1000;

    private PolicyNumber(BigInteger mantissa, int exponent)
    {
        Mantissa = mantissa;
        Exponent = exponent;
    }

    public BigInteger Mantissa { get; }

    public int Exponent { get; }

    /// <summary>Reads a JSON number's text (RFC 8259 grammar, already checked by the JSON reader).</summary>
    public static PolicyNumber? FromJsonNumber(string text) => Parse(text, allowExponent: true);

    /// <summary>
    /// Reads a string claim or operand as a plain numeral: optional sign, digits with an optional decimal point,
    /// at least one digit, no exponent, no spaces, at most 64 characters ("01", "+1", "1.0", "-1.5", ".5").
    /// </summary>
    public static PolicyNumber? FromNumericString(string text) =>
        text.Length is > 0 and <= 64 ? Parse(text, allowExponent: false) : null;

    /// <summary>The sign of this minus <paramref name="other"/>, computed exactly.</summary>
    public int CompareTo(PolicyNumber other)
    {
        if (Mantissa.Sign != other.Mantissa.Sign)
        {
            return Mantissa.Sign.CompareTo(other.Mantissa.Sign);
        }

        // Both exponents are within ±MaxExponent, so the scale factor has at most 2·MaxExponent digits.
        return Exponent >= other.Exponent
            ? (Mantissa * BigInteger.Pow(10, Exponent - other.Exponent)).CompareTo(other.Mantissa)
            : Mantissa.CompareTo(other.Mantissa * BigInteger.Pow(10, other.Exponent - Exponent));
    }

    private static PolicyNumber? Parse(string text, bool allowExponent)
    {
        if (text.Length > MaxTextLength)
        {
            return null;
        }

        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        var integerEnd = CountDigits(s);
        var integerDigits = s[..integerEnd];
        s = s[integerEnd..];
        var fractionDigits = ReadOnlySpan<char>.Empty;
        if (s.Length > 0 && s[0] == '.')
        {
            var fractionEnd = CountDigits(s[1..]);
            fractionDigits = s.Slice(1, fractionEnd);
            s = s[(1 + fractionEnd)..];
        }

        if (integerDigits.IsEmpty && fractionDigits.IsEmpty)
        {
            return null;
        }

        long exponent = 0;
        if (allowExponent && s.Length > 0 && s[0] is 'e' or 'E')
        {
            s = s[1..];
            var exponentNegative = false;
            if (s.Length > 0 && s[0] is '+' or '-')
            {
                exponentNegative = s[0] == '-';
                s = s[1..];
            }

            var exponentEnd = CountDigits(s);
            var exponentDigits = s[..exponentEnd].TrimStart('0');
            if (exponentEnd == 0 || exponentDigits.Length > 9)
            {
                return null;
            }

            exponent = exponentDigits.IsEmpty ? 0 : long.Parse(exponentDigits, NumberStyles.None, CultureInfo.InvariantCulture);
            exponent = exponentNegative ? -exponent : exponent;
            s = s[exponentEnd..];
        }

        if (!s.IsEmpty)
        {
            return null;
        }

        var digits = string.Concat(integerDigits, fractionDigits).TrimStart('0');
        exponent -= fractionDigits.Length;
        var significant = digits.TrimEnd('0');
        if (significant.Length == 0)
        {
            return new PolicyNumber(BigInteger.Zero, 0);
        }

        exponent += digits.Length - significant.Length;
        if (exponent is < -MaxExponent or > MaxExponent)
        {
            return null;
        }

        var mantissa = BigInteger.Parse(significant, NumberStyles.None, CultureInfo.InvariantCulture);
        return new PolicyNumber(negative ? -mantissa : mantissa, (int)exponent);
    }

    private static int CountDigits(ReadOnlySpan<char> s)
    {
        var i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        return i;
    }
}

using System.Numerics;

namespace CleanRoom.Privacy.Tests;

public sealed class RationalTests
{
    [Fact]
    public void Decimals_convert_exactly()
    {
        Assert.Equal(new Rational(1, 10), Rational.FromDecimal(0.1m));
        Assert.Equal(new Rational(-1234567, 1000), Rational.FromDecimal(-1234.567m));
        Assert.Equal(Rational.FromInteger(BigInteger.Parse("79228162514264337593543950335", System.Globalization.CultureInfo.InvariantCulture)), Rational.FromDecimal(decimal.MaxValue));
    }

    [Fact]
    public void Floor_and_ceiling_round_toward_the_right_infinity()
    {
        Assert.Equal(new BigInteger(-2), new Rational(-3, 2).Floor());
        Assert.Equal(new BigInteger(-1), new Rational(-3, 2).Ceiling());
        Assert.Equal(new BigInteger(1), new Rational(3, 2).Floor());
        Assert.Equal(new BigInteger(2), new Rational(3, 2).Ceiling());
        Assert.Equal(new BigInteger(2), new Rational(4, 2).Floor());
    }

    [Fact]
    public void Arithmetic_is_exact_and_reduced()
    {
        var third = new Rational(1, 3);
        Assert.Equal(Rational.One, third + third + third);
        Assert.Equal(new Rational(2, 4), new Rational(1, 2));
        Assert.True(new Rational(1, 3) < new Rational(1, 2));
        Assert.Equal(BigInteger.One, (new Rational(6, -4) * new Rational(-2, 3)).Numerator);
    }
}

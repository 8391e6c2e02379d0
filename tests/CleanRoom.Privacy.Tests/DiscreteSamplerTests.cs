using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy.Tests;

public sealed class DiscreteSamplerTests
{
    private const int Samples = 20_000;

    [Theory]
    [InlineData(3, 2)]
    [InlineData(1, 3)]
    [InlineData(7, 1)]
    public void Discrete_laplace_matches_its_exact_pmf(int numerator, int denominator)
    {
        var scale = new Rational(numerator, denominator);
        var random = new SeededRandomSource(20201);
        var samples = Enumerable.Range(0, Samples).Select(_ => (long)DiscreteLaplace.Sample(scale, random)).ToArray();

        var q = Math.Exp(-(double)denominator / numerator);
        var (chi, critical, df) = Statistics.GoodnessOfFit(samples, x => (1 - q) / (1 + q) * Math.Pow(q, Math.Abs(x)));

        Assert.True(chi < critical, $"chi² = {chi:F1} ≥ {critical:F1} (df {df})");
    }

    [Theory]
    [InlineData(5, 2)]
    [InlineData(1, 4)]
    [InlineData(30, 1)]
    public void Discrete_gaussian_matches_its_exact_pmf(int numerator, int denominator)
    {
        var sigmaSquared = new Rational(numerator, denominator);
        var random = new SeededRandomSource(424242);
        var samples = Enumerable.Range(0, Samples).Select(_ => (long)DiscreteGaussian.Sample(sigmaSquared, random)).ToArray();

        var s2 = (double)numerator / denominator;
        var normalizer = Enumerable.Range(-200, 401).Sum(x => Math.Exp(-(double)x * x / (2 * s2)));
        var (chi, critical, df) = Statistics.GoodnessOfFit(samples, x => Math.Exp(-(double)x * x / (2 * s2)) / normalizer);

        Assert.True(chi < critical, $"chi² = {chi:F1} ≥ {critical:F1} (df {df})");
    }

    [Fact]
    public void Goodness_of_fit_detects_a_wrong_scale()
    {
        var random = new SeededRandomSource(99);
        var samples = Enumerable.Range(0, Samples).Select(_ => (long)DiscreteLaplace.Sample(new Rational(2, 1), random)).ToArray();
        var q = Math.Exp(-1 / 2.2); // 10% off
        var (chi, critical, _) = Statistics.GoodnessOfFit(samples, x => (1 - q) / (1 + q) * Math.Pow(q, Math.Abs(x)));
        Assert.True(chi > critical, $"chi² = {chi:F1} did not exceed {critical:F1}");
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(5, 3)]
    [InlineData(7, 2)]
    public void Bernoulli_exp_minus_gamma_has_the_right_frequency(int numerator, int denominator)
    {
        var random = new SeededRandomSource(7);
        var gamma = new Rational(numerator, denominator);
        var hits = Enumerable.Range(0, Samples).Count(_ => ExactBernoulli.SampleExpMinus(gamma, random));

        var p = Math.Exp(-(double)numerator / denominator);
        var sd = Math.Sqrt(Samples * p * (1 - p));
        Assert.InRange(hits, (Samples * p) - (5 * sd), (Samples * p) + (5 * sd));
    }

    [Fact]
    public void Crypto_source_draws_below_the_bound()
    {
        var random = CryptoRandomSource.Instance;
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange((int)random.NextBigInteger(3), 0, 2);
        }

        Assert.Equal(0, (int)random.NextBigInteger(1));
        var sample = DiscreteLaplace.Sample(new Rational(5, 1), random);
        Assert.InRange((long)sample, -10_000, 10_000);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void Crypto_source_draws_below_bounds_around_2_to_the_32_over_the_whole_range(int offset)
    {
        // 2^32 itself once overflowed the fast path for bounds of up to 32 bits (found in review).
        var bound = (System.Numerics.BigInteger.One << 32) + offset;
        var high = 0;
        for (var i = 0; i < 2000; i++)
        {
            var value = CryptoRandomSource.Instance.NextBigInteger(bound);
            Assert.True(value >= 0 && value < bound, $"{value} is outside [0, {bound})");
            high += value >= (System.Numerics.BigInteger.One << 31) ? 1 : 0;
        }

        Assert.InRange(high, 800, 1200); // about half the draws in the upper half: the whole range is used
    }

    [Theory]
    [InlineData(32)]
    [InlineData(33)]
    public void Discrete_laplace_samples_with_a_scale_that_is_a_power_of_two_of_32_bits_or_more(int log2Scale)
    {
        // A scale numerator of 2^32, or a multiple of it, makes the exact Bernoulli steps draw below exactly 2^32.
        var scale = new Rational(System.Numerics.BigInteger.One << log2Scale, 1);
        for (var seed = 0; seed < 200; seed++)
        {
            DiscreteLaplace.Sample(scale, new SeededRandomSource(seed));
        }

        Assert.InRange((double)DiscreteLaplace.Sample(scale, CryptoRandomSource.Instance), -1e15, 1e15);
    }

    [Fact]
    public void Integer_square_root_is_exact()
    {
        foreach (var n in new long[] { 0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 1L << 40, (1L << 40) - 1 })
        {
            var r = (long)DiscreteGaussian.IntegerSqrt(n);
            Assert.True(r * r <= n && (r + 1) * (r + 1) > n, $"isqrt({n}) = {r}");
        }
    }
}

using System.Numerics;
using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// Exact discrete Laplace (two-sided geometric) sampler: P(X = x) ∝ exp(−|x| / t) on the integers, for rational scale t &gt; 0.
/// Canonne, Kamath &amp; Steinke (NeurIPS 2020), Algorithm 2, with every probability an exact rational over BigInteger —
/// no floating point on the sampling path. Adding it to a sum of sensitivity Δ (in grid units) with t = Δ/ε gives ε-DP.
/// </summary>
/// <remarks>
/// Running time depends on the random draws (it is a rejection sampler), not on any data value; the enclave should not
/// expose per-aggregate timing.
/// </remarks>
public static class DiscreteLaplace
{
    public static BigInteger Sample(Rational scale, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (scale.Sign <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(scale), "The scale must be positive.");
        }

        // Algorithm 2 takes scale t/s with integers t, s ≥ 1.
        var t = scale.Numerator;
        var s = scale.Denominator;
        while (true)
        {
            var u = random.NextBigInteger(t);
            if (!ExactBernoulli.SampleExpMinus(new Rational(u, t), random))
            {
                continue;
            }

            var v = BigInteger.Zero;
            while (ExactBernoulli.SampleExpMinus(Rational.One, random))
            {
                v++;
            }

            var x = u + (t * v);
            var y = x / s; // floor, x ≥ 0
            var negative = random.NextBit();
            if (negative && y.IsZero)
            {
                continue;
            }

            return negative ? -y : y;
        }
    }

    public static BigInteger Sample(BigInteger scale, IRandomSource random) => Sample(Rational.FromInteger(scale), random);
}

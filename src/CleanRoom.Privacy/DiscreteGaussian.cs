using System.Numerics;
using CleanRoom.Privacy.Internal;

namespace CleanRoom.Privacy;

/// <summary>
/// Exact discrete Gaussian sampler: P(X = x) ∝ exp(−x² / (2σ²)) on the integers, for rational σ² &gt; 0.
/// Canonne, Kamath &amp; Steinke (NeurIPS 2020), Algorithm 3: discrete Laplace proposals with t = ⌊σ⌋ + 1, accepted with
/// probability exp(−(|Y| − σ²/t)² / (2σ²)), all in exact rational arithmetic.
/// </summary>
public static class DiscreteGaussian
{
    public static BigInteger Sample(Rational sigmaSquared, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (sigmaSquared.Sign <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sigmaSquared), "σ² must be positive.");
        }

        // ⌊σ⌋ = ⌊√⌊σ²⌋⌋, computed with an integer square root.
        var t = IntegerSqrt(sigmaSquared.Floor()) + 1;
        var sigmaSquaredOverT = sigmaSquared / t;
        var twoSigmaSquared = sigmaSquared * 2;
        while (true)
        {
            var y = DiscreteLaplace.Sample(t, random);
            var distance = Rational.FromInteger(BigInteger.Abs(y)) - sigmaSquaredOverT;
            if (ExactBernoulli.SampleExpMinus(distance * distance / twoSigmaSquared, random))
            {
                return y;
            }
        }
    }

    internal static BigInteger IntegerSqrt(BigInteger n)
    {
        if (n.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n));
        }

        if (n < 2)
        {
            return n;
        }

        // Newton's method from an over-estimate; converges monotonically down to ⌊√n⌋.
        var x = BigInteger.One << (int)((n.GetBitLength() + 1) / 2);
        while (true)
        {
            var next = (x + (n / x)) / 2;
            if (next >= x)
            {
                return x;
            }

            x = next;
        }
    }
}

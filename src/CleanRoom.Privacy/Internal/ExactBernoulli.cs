using System.Numerics;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// Exact Bernoulli trials with rational parameters. Canonne, Kamath &amp; Steinke, "The Discrete Gaussian for Differential
/// Privacy" (NeurIPS 2020), Algorithm 1: Bernoulli(exp(−γ)) for rational γ ≥ 0 using only Bernoulli(p) for rational p.
/// </summary>
internal static class ExactBernoulli
{
    /// <summary>Bernoulli(p) for rational p in [0, 1]: one uniform draw below the denominator.</summary>
    public static bool Sample(Rational p, IRandomSource random)
    {
        if (p.Sign < 0 || p > Rational.One)
        {
            throw new ArgumentOutOfRangeException(nameof(p), "A probability lies in [0, 1].");
        }

        return random.NextBigInteger(p.Denominator) < p.Numerator;
    }

    /// <summary>Bernoulli(exp(−γ)) for rational γ ≥ 0 (CKS Algorithm 1).</summary>
    public static bool SampleExpMinus(Rational gamma, IRandomSource random)
    {
        if (gamma.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), "γ must be non-negative.");
        }

        if (gamma <= Rational.One)
        {
            // K = 1; while Bernoulli(γ/K) = 1, K++. Output 1 iff K is odd. P = Σ (−γ)^j / j! = exp(−γ).
            var k = BigInteger.One;
            while (Sample(gamma / k, random))
            {
                k++;
            }

            return !k.IsEven;
        }

        // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
        var whole = gamma.Floor();
        for (var i = BigInteger.Zero; i < whole; i++)
        {
            if (!SampleExpMinus(Rational.One, random))
            {
                return false;
            }
        }

        return SampleExpMinus(gamma - whole, random);
    }
}

namespace CleanRoom.Privacy.Tests;

internal static class Statistics
{
    /// <summary>
    /// Pearson chi-square of observed integer samples against a PMF: cells with expected count ≥ 5 around 0, the rest
    /// merged into two tails. Returns the statistic and the α = 0.001 critical value (Wilson–Hilferty approximation).
    /// </summary>
    public static (double ChiSquare, double Critical, int DegreesOfFreedom) GoodnessOfFit(IReadOnlyList<long> samples, Func<long, double> pmf)
    {
        var n = samples.Count;
        var counts = samples.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        long limit = 0;
        while (pmf(limit + 1) * n >= 5)
        {
            limit++;
        }

        double chi = 0;
        var cells = 0;
        double inner = 0;
        for (var x = -limit; x <= limit; x++)
        {
            var expected = pmf(x) * n;
            inner += pmf(x);
            var observed = counts.GetValueOrDefault(x);
            chi += (observed - expected) * (observed - expected) / expected;
            cells++;
        }

        // Symmetric tails, each with probability (1 − inner)/2.
        var tailExpected = (1 - inner) / 2 * n;
        if (tailExpected > 0)
        {
            var low = samples.Count(s => s < -limit);
            var high = samples.Count(s => s > limit);
            chi += (low - tailExpected) * (low - tailExpected) / tailExpected;
            chi += (high - tailExpected) * (high - tailExpected) / tailExpected;
            cells += 2;
        }

        var df = cells - 1;
        const double z = 3.0902; // upper 0.1% point of N(0,1)
        var a = 2.0 / (9 * df);
        var critical = df * Math.Pow(1 - a + (z * Math.Sqrt(a)), 3);
        return (chi, critical, df);
    }
}

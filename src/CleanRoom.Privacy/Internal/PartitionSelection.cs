namespace CleanRoom.Privacy.Internal;

/// <summary>
/// The public threshold for private partition selection on a noisy distinct-unit count (noise: discrete Laplace with
/// scale L0/ε). A group is released when its noisy count is ≥ the threshold T.
/// </summary>
/// <remarks>
/// T is the larger of
/// (a) ⌈τ⌉ with τ = L0 · (1 − ln(2δ/L0)/ε), the usual Laplace form (ZetaSQL-style), and
/// (b) the smallest T with L0 · P(X ≥ T − 1) ≤ δ for the discrete Laplace X we actually add, where
///     P(X ≥ m) = q^m / (1 + q), q = exp(−ε/L0). For L0 = 1 this is up to one unit above (a).
/// A unit that is alone in up to L0 new groups makes each released with probability ≤ δ/L0, so δ overall.
/// T depends only on the public (ε, δ, L0), never on data, so computing it in floating point cannot leak anything; it is
/// rounded up with a margin so rounding error can only make it stricter.
/// </remarks>
internal static class PartitionSelection
{
    private const double Margin = 1e-9;

    public static long Threshold(double epsilon, double delta, int maxGroupsContributed)
    {
        if (!(epsilon > 0) || !(delta > 0 && delta < 1) || maxGroupsContributed < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), "Partition selection needs ε > 0, 0 < δ < 1 and L0 ≥ 1.");
        }

        double l0 = maxGroupsContributed;
        var laplaceForm = l0 * (1 - (Math.Log(2 * delta / l0) / epsilon));
        var q = Math.Exp(-epsilon / l0);
        var discreteTail = 1 + ((Math.Log(l0 / delta) - Math.Log(1 + q)) * l0 / epsilon);
        var threshold = Math.Max(Math.Ceiling(laplaceForm + Margin), Math.Ceiling(discreteTail + Margin));
        return (long)Math.Max(threshold, 1);
    }
}

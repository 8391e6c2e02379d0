using System.Numerics;

namespace CleanRoom.Privacy.Internal;

/// <summary>
/// One group's pre-noise totals: the number of units that contribute to it (after the L0 cap) and, per aggregate, the sum of
/// their clamped values in grid steps. Sums arrive either as BigInteger (exact slow grid, or the SQL fast path's HUGEINT
/// group sums) or as Int128 (fast grid, summed one value at a time); <see cref="Sum"/> is their total.
/// </summary>
internal sealed class DpGroupTotals(int aggregateCount)
{
    public BigInteger Units { get; set; }

    public BigInteger[] GridSums { get; } = Enumerable.Repeat(BigInteger.Zero, aggregateCount).ToArray();

    public Int128[] FastSums { get; } = new Int128[aggregateCount];

    public BigInteger Sum(int index) => GridSums[index] + (BigInteger)FastSums[index];
}

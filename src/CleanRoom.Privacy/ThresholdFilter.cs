using System.Numerics;

namespace CleanRoom.Privacy;

/// <summary>
/// Applies the k-threshold to the result of a <see cref="ThresholdRewriter"/> query: a row (group) is released only when
/// every <c>__cr_units_*</c> column is at least k; suppressed groups are dropped whole — no "other"/remainder row is ever
/// produced, since it could be differenced against totals.
/// </summary>
public static class ThresholdFilter
{
    public static ThresholdFilterResult Apply(IReadOnlyList<string> columns, IReadOnlyList<object?[]> rows, int k)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);

        var unitColumns = new List<int>();
        var keptColumns = new List<int>();
        for (var i = 0; i < columns.Count; i++)
        {
            (columns[i].StartsWith(ThresholdRewriter.UnitColumnPrefix, StringComparison.OrdinalIgnoreCase) ? unitColumns : keptColumns).Add(i);
        }

        // Fail closed: a result without unit counts was not rewritten, and releasing it would skip the threshold.
        if (unitColumns.Count == 0)
        {
            throw new InvalidOperationException("The result has no unit-count columns; run the query rewritten by ThresholdRewriter.");
        }

        var released = new List<object?[]>();
        var suppressed = 0;
        foreach (var row in rows)
        {
            if (row.Length != columns.Count)
            {
                throw new ArgumentException("A row does not match the column list.", nameof(rows));
            }

            if (unitColumns.All(i => UnitCount(row[i]) >= k))
            {
                released.Add(keptColumns.Select(i => row[i]).ToArray());
            }
            else
            {
                suppressed++;
            }
        }

        return new ThresholdFilterResult(keptColumns.Select(i => columns[i]).ToArray(), released, suppressed);
    }

    // NULL or an unexpected type counts as zero units: suppress rather than guess.
    private static BigInteger UnitCount(object? value) => value switch
    {
        long l => l,
        int i => i,
        ulong u => u,
        uint u => u,
        short s => s,
        BigInteger b => b,
        decimal d when d == decimal.Truncate(d) => new BigInteger(d),
        _ => BigInteger.Zero,
    };
}

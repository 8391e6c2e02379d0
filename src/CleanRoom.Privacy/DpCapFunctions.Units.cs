using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace CleanRoom.Privacy;

/// <summary>
/// The cap indexed by unit value, for integer units whose range is small enough (<see cref="DpPlan.UnitIndexedTotalsSql"/>):
/// <list type="bullet">
/// <item><c>__cr_cap_rank(unit BIGINT) → UBIGINT</c> draws a row's rank (as <see cref="DpPlan.RandomFunction"/> does) and
/// inserts it into its unit's slots, an array indexed by unit − min, under a striped lock;</item>
/// <item><c>__cr_cap_keep(unit BIGINT, rank UBIGINT, rows BIGINT, l0 BIGINT) → BOOLEAN</c>: whether the rank is among its
/// unit's L0 lowest, that is at most the unit's L0-th slot (empty slots are 2^64 − 1, above every rank). <c>rows</c> is how
/// many rows were ranked; the function fails the statement unless exactly that many were recorded.</item>
/// </list>
/// This replaces DuckDB's GROUP BY over the units (its hash table of every unit, the largest cost of the cap) with one array
/// access per row. Before the statement, <see cref="IndexUnits"/> sizes the array from the unit column's min and max.
/// </summary>
public sealed partial class DpCapFunctions
{
    public const string RankFunction = "__cr_cap_rank";
    public const string KeepFunction = "__cr_cap_keep";

    /// <summary>The most memory the unit index may take: 8,388,608 units of 4 slots (L0 ≤ 4) or 2,097,152 units of 16.</summary>
    public const long MaxUnitIndexBytes = 256L << 20;

    private const int LockStripes = 1 << 16;

    private UnitIndex? _units;

    /// <summary>
    /// Sizes the unit index for units in [<paramref name="min"/>, <paramref name="max"/>] and L0 = <paramref name="l0"/>, and
    /// forgets any earlier one. False, with no index set, when it would take more than <see cref="MaxUnitIndexBytes"/>, when
    /// L0 exceeds <see cref="MaxGroups"/> or when the memory cannot be had: the caller then runs <see cref="DpPlan.TotalsSql"/>.
    /// </summary>
    public bool IndexUnits(long min, long max, int l0) => IndexUnits(min, max, l0, null);

    /// <summary>
    /// As <see cref="IndexUnits(long, long, int)"/>, with the ranks' random bits from <paramref name="fill"/> (tests seed it)
    /// and at most <paramref name="rankLimit"/> ranks (tests lower it).
    /// </summary>
    internal bool IndexUnits(long min, long max, int l0, Action<Span<byte>>? fill, long rankLimit = MaxRanks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rankLimit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rankLimit, MaxRanks);
        ArgumentOutOfRangeException.ThrowIfLessThan(l0, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(min, max);
        Volatile.Write(ref _units, null);
        var slots = SlotsFor(l0);
        var span = (ulong)(max - min); // max ≥ min: the true difference, below 2^64
        if (l0 > MaxGroups || span >= (ulong)(MaxUnitIndexBytes / (sizeof(ulong) * slots)))
        {
            return false;
        }

        try
        {
            Volatile.Write(ref _units, new UnitIndex(min, span + 1, l0, fill, rankLimit));
            return true;
        }
        catch (OutOfMemoryException)
        {
            return false; // the grouped form needs no such block; running it is no worse than failing the job
        }
    }

    /// <summary>One statement's unit index: each unit's lowest ranks, sorted, empty slots <see cref="Empty"/>.</summary>
    private sealed class UnitIndex
    {
        public UnitIndex(long min, ulong units, int l0, Action<Span<byte>>? fill, long rankLimit)
        {
            RankLimit = rankLimit;
            Min = min;
            Units = units;
            L0 = l0;
            Slots = SlotsFor(l0);
            Fill = fill ?? CsprngFill;
            Ranks = GC.AllocateUninitializedArray<ulong>(checked((int)(units * (ulong)Slots)), pinned: true);
            Ranks.AsSpan().Fill(Empty);
        }

        public long Min { get; }

        public long RankLimit { get; }

        public ulong Units { get; }

        public int L0 { get; }

        public int Slots { get; }

        public Action<Span<byte>> Fill { get; }

        public ulong[] Ranks { get; }

        public int[] Locks { get; } = GC.AllocateArray<int>(LockStripes, pinned: true);

        public long Issued;

        public long Recorded;
    }

    /// <summary>The slots a unit's state has for <paramref name="l0"/>: the aggregate's layouts, 4 up to L0 = 4 and 16 beyond.</summary>
    private static int SlotsFor(int l0) => l0 <= Four.Slots ? Four.Slots : Sixteen.Slots;

    private UnitIndex IndexOrFail() => Volatile.Read(ref _units) ?? throw new InvalidOperationException("no unit range was set for this statement");

    private static unsafe int RegisterUnitFunctions(IntPtr connection, DpCapFunctions marks, IntPtr big, IntPtr unsignedBig, IntPtr boolean) =>
        RegisterScalar(connection, RankFunction, [big], unsignedBig, &RankUnit, marks, isVolatile: true)
        | RegisterScalar(connection, KeepFunction, [big, unsignedBig, big, big], boolean, &KeepUnit, marks, isVolatile: true);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void RankUnit(IntPtr info, IntPtr chunk, IntPtr output)
    {
        try
        {
            var index = Of(NativeMethods.duckdb_scalar_function_get_extra_info(info)).IndexOrFail();
            if (index.Slots == Four.Slots)
            {
                RankUnit<Four>(index, chunk, output);
            }
            else
            {
                RankUnit<Sixteen>(index, chunk, output);
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_scalar_function_set_error(info, "DP rank failed: " + e.Message);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RankUnit<TSlots>(UnitIndex index, IntPtr chunk, IntPtr output)
        where TSlots : ISlots
    {
        var count = (long)NativeMethods.duckdb_data_chunk_get_size(chunk);
        var unitVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 0);
        if (!AllValid(unitVector, (ulong)count))
        {
            throw new InvalidOperationException("a DP unit is NULL");
        }

        var units = (long*)NativeMethods.duckdb_vector_get_data(unitVector);
        var ranks = (ulong*)NativeMethods.duckdb_vector_get_data(output);
        fixed (ulong* slots = index.Ranks)
        fixed (int* locks = index.Locks)
        {
            // Check every unit first and fetch its slots ahead: the inserts below take a lock each, which stalls on a miss.
            for (long i = 0; i < count; i++)
            {
                var unit = (ulong)(units[i] - index.Min);
                if (unit >= index.Units)
                {
                    throw new InvalidOperationException("a DP unit lies outside the range measured before the statement");
                }

                if (Sse.IsSupported)
                {
                    Sse.Prefetch0(slots + (unit * (ulong)TSlots.Slots));
                }
            }

            DrawRanks(ranks, count, ref index.Issued, index.RankLimit, index.Fill);
            for (long i = 0; i < count; i++)
            {
                var unit = (ulong)(units[i] - index.Min);
                var stripe = locks + (unit & (LockStripes - 1));
                while (Interlocked.CompareExchange(ref *stripe, 1, 0) != 0)
                {
                    Thread.SpinWait(1);
                }

                TSlots.Insert(slots + (unit * (ulong)TSlots.Slots), ranks[i]);
                Volatile.Write(ref *stripe, 0);
            }
        }

        Interlocked.Add(ref index.Recorded, count);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KeepUnit(IntPtr info, IntPtr chunk, IntPtr output)
    {
        try
        {
            var index = Of(NativeMethods.duckdb_scalar_function_get_extra_info(info)).IndexOrFail();
            var count = NativeMethods.duckdb_data_chunk_get_size(chunk);
            for (ulong column = 0; column < 4; column++)
            {
                if (!AllValid(NativeMethods.duckdb_data_chunk_get_vector(chunk, column), count))
                {
                    throw new InvalidOperationException("a DP unit, rank, row count or L0 is NULL");
                }
            }

            var units = (long*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 0));
            var ranks = (ulong*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 1));
            var rows = (long*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 2));
            var l0s = (long*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 3));
            var kept = (byte*)NativeMethods.duckdb_vector_get_data(output);
            var recorded = Volatile.Read(ref index.Recorded);
            var last = index.L0 - 1;
            fixed (ulong* slots = index.Ranks)
            {
                for (ulong i = 0; i < count; i++)
                {
                    if (rows[i] != recorded)
                    {
                        throw new InvalidOperationException("the kept ranks were read before every unit was capped");
                    }

                    if (l0s[i] != index.L0)
                    {
                        throw new InvalidOperationException("L0 is not the one the unit range was set for");
                    }

                    var unit = (ulong)(units[i] - index.Min);
                    if (unit >= index.Units)
                    {
                        throw new InvalidOperationException("a DP unit lies outside the range measured before the statement");
                    }

                    kept[i] = ranks[i] <= slots[(unit * (ulong)index.Slots) + (ulong)last] ? (byte)1 : (byte)0;
                }
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_scalar_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }
}

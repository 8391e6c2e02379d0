using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using DuckDB.NET.Data;

namespace CleanRoom.Privacy;

/// <summary>
/// The native functions of the DP contribution cap and clamp in <see cref="DpPlan.TotalsSql"/>, registered through DuckDB's C
/// API (DuckDB.NET wraps scalar functions only, and through its per-value readers the same bitmap test was slower than the
/// join it replaces):
/// <list type="bullet">
/// <item><c>__cr_cap_top1</c> … <c>__cr_cap_top16(rank UBIGINT) → BIGINT</c>, an aggregate run per unit (<c>GROUP BY
/// __cr_unit</c>): <c>__cr_cap_topL</c> keeps the unit's lowest ranks in a fixed-size state (4 slots up to L = 4, 16 beyond),
/// and when DuckDB finalizes the unit it marks the L lowest as kept and returns how many it marked.</item>
/// <item><c>__cr_cap_kept(rank UBIGINT, marks BIGINT) → BOOLEAN</c>: whether a rank was marked. <c>marks</c> is the total the
/// aggregate returned over all units; the function fails the statement unless exactly that many ranks are marked, so it can
/// never read the marks before every unit is finalized.</item>
/// <item><c>__cr_cap_grid(value DOUBLE, lower DOUBLE, upper DOUBLE, granularity DOUBLE, low BIGINT, high BIGINT) → BIGINT</c>:
/// one per-unit value mapped, clamped and rounded onto the grid (<see cref="ToGrid"/>), in one pass instead of a DuckDB
/// expression per step.</item>
/// <item><see cref="DpPlan.RandomFunction"/>, the ranks themselves (<see cref="RegisterRandom(DuckDBConnection)"/>).</item>
/// <item><c>__cr_cap_rank</c> and <c>__cr_cap_keep</c>, the cap indexed by unit value for integer units (DpCapFunctions.Units.cs).</item>
/// </list>
/// A rank's low 32 bits are the sandbox's counter, distinct for every rank, so the marks are a bitmap indexed by them. In
/// the aggregate's form unit identity stays DuckDB's own (its GROUP BY), so no unit value reaches C#; the unit index takes
/// integer unit values as array indices. The hot callbacks are compiled fully optimized from their first call (a statement
/// is over before tiered compilation would get to them).
/// </summary>
public sealed partial class DpCapFunctions
{
    /// <summary>The aggregates' name prefix: <c>__cr_cap_top1</c> … <c>__cr_cap_top16</c>, one per L0 (<see cref="TopFor"/>).</summary>
    public const string TopFunction = "__cr_cap_top";
    public const string KeptFunction = "__cr_cap_kept";
    public const string GridFunction = "__cr_cap_grid";

    /// <summary>The largest L0 the aggregate's fixed state holds; <see cref="DpPlan.TotalsSql"/> uses a window beyond it.</summary>
    public const int MaxGroups = 16;

    private const int PageBits = 16;
    private ulong[]?[] _pages = new ulong[]?[1 << (32 - PageBits)];
    private long _marks;

    private DpCapFunctions()
    {
    }

    /// <summary>Registers the aggregates, the test and the grid function on <paramref name="connection"/> (open), with marks of their own.</summary>
    public static DpCapFunctions Register(DuckDBConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var marks = new DpCapFunctions();
        var handle = connection.NativeConnection.DangerousGetHandle();
        var unsignedBig = NativeMethods.duckdb_create_logical_type(9); // UBIGINT
        var big = NativeMethods.duckdb_create_logical_type(5); // BIGINT
        var boolean = NativeMethods.duckdb_create_logical_type(1); // BOOLEAN
        var real = NativeMethods.duckdb_create_logical_type(11); // DOUBLE
        try
        {
            unsafe
            {
                var topState = 0;
                for (var l0 = 1; l0 <= MaxGroups; l0++)
                {
                    var top = NativeMethods.duckdb_create_aggregate_function();
                    NativeMethods.duckdb_aggregate_function_set_name(top, TopFunction + l0.ToString(CultureInfo.InvariantCulture));
                    NativeMethods.duckdb_aggregate_function_add_parameter(top, unsignedBig);
                    NativeMethods.duckdb_aggregate_function_set_return_type(top, big);
                    if (l0 <= Four.Slots)
                    {
                        NativeMethods.duckdb_aggregate_function_set_functions(top, &StateSizeFour, &StateInitFour, &TopUpdateFour, &TopCombineFour, &TopFinalize);
                    }
                    else
                    {
                        NativeMethods.duckdb_aggregate_function_set_functions(top, &StateSizeSixteen, &StateInitSixteen, &TopUpdateSixteen, &TopCombineSixteen, &TopFinalize);
                    }

                    NativeMethods.duckdb_aggregate_function_set_extra_info(top, GCHandle.ToIntPtr(GCHandle.Alloc(new TopInfo(marks, l0))), &FreeHandle);
                    topState |= NativeMethods.duckdb_register_aggregate_function(handle, top);
                    NativeMethods.duckdb_destroy_aggregate_function(ref top);
                }

                var keptState = RegisterScalar(handle, KeptFunction, [unsignedBig, big], boolean, &Kept, marks, isVolatile: true);
                // NULL values reach Grid, which maps them to 0.
                var gridState = RegisterScalar(handle, GridFunction, [real, real, real, real, big, big], big, &Grid, null, nullsReachFunction: true);
                var unitState = RegisterUnitFunctions(handle, marks, big, unsignedBig, boolean);
                if (topState != 0 || keptState != 0 || gridState != 0 || unitState != 0)
                {
                    throw new InvalidOperationException("DuckDB refused to register the DP cap functions");
                }
            }
        }
        finally
        {
            NativeMethods.duckdb_destroy_logical_type(ref unsignedBig);
            NativeMethods.duckdb_destroy_logical_type(ref big);
            NativeMethods.duckdb_destroy_logical_type(ref boolean);
            NativeMethods.duckdb_destroy_logical_type(ref real);
        }

        return marks;
    }

    /// <summary>
    /// Registers <see cref="DpPlan.RandomFunction"/> on <paramref name="connection"/> (open): each value is 32 bits from the OS
    /// CSPRNG above a 32-bit counter, so ranks order at random and are never equal. Past 2^32 − 1 values in one registration
    /// the function fails the statement rather than repeat a rank (far beyond what fits a sandbox's memory limit).
    /// </summary>
    public static void RegisterRandom(DuckDBConnection connection) => RegisterRandom(connection, MaxRanks);

    /// <summary>The most ranks one registration draws: counters 0 … 2^32 − 2, so no rank is the aggregate's empty slot.</summary>
    internal const long MaxRanks = (1L << 32) - 1;

    /// <summary>As <see cref="RegisterRandom(DuckDBConnection)"/>, failing past <paramref name="limit"/> values (tests lower it).</summary>
    internal static void RegisterRandom(DuckDBConnection connection, long limit)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxRanks);
        var unsignedBig = NativeMethods.duckdb_create_logical_type(9); // UBIGINT
        try
        {
            unsafe
            {
                var state = RegisterScalar(connection.NativeConnection.DangerousGetHandle(), DpPlan.RandomFunction, [], unsignedBig, &Random, new RankCounter(limit), isVolatile: true);
                if (state != 0)
                {
                    throw new InvalidOperationException("DuckDB refused to register the DP rank function");
                }
            }
        }
        finally
        {
            NativeMethods.duckdb_destroy_logical_type(ref unsignedBig);
        }
    }

    /// <summary>
    /// Registers one C API scalar function; <paramref name="extraInfo"/> (if any) is handed to the callback through a GCHandle
    /// that DuckDB frees with the function. Returns DuckDB's state (0: registered).
    /// </summary>
    private static unsafe int RegisterScalar(
        IntPtr connection,
        string name,
        ReadOnlySpan<IntPtr> parameters,
        IntPtr returnType,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, void> callback,
        object? extraInfo,
        bool isVolatile = false,
        bool nullsReachFunction = false)
    {
        var function = NativeMethods.duckdb_create_scalar_function();
        NativeMethods.duckdb_scalar_function_set_name(function, name);
        foreach (var type in parameters)
        {
            NativeMethods.duckdb_scalar_function_add_parameter(function, type);
        }

        NativeMethods.duckdb_scalar_function_set_return_type(function, returnType);
        if (isVolatile)
        {
            NativeMethods.duckdb_scalar_function_set_volatile(function);
        }

        if (nullsReachFunction)
        {
            NativeMethods.duckdb_scalar_function_set_special_handling(function);
        }

        NativeMethods.duckdb_scalar_function_set_function(function, callback);
        if (extraInfo is not null)
        {
            NativeMethods.duckdb_scalar_function_set_extra_info(function, GCHandle.ToIntPtr(GCHandle.Alloc(extraInfo)), &FreeHandle);
        }

        var state = NativeMethods.duckdb_register_scalar_function(connection, function);
        NativeMethods.duckdb_destroy_scalar_function(ref function);
        return state;
    }

    /// <summary>The aggregate that keeps <paramref name="l0"/> ranks per unit (1 ≤ L0 ≤ <see cref="MaxGroups"/>).</summary>
    public static string TopFor(int l0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(l0, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(l0, MaxGroups);
        return TopFunction + l0.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Forgets every mark and the unit index (<see cref="IndexUnits(long, long, int)"/>); call before each statement that caps
    /// (ranks never repeat, but the counts must start at 0).
    /// </summary>
    public void Reset()
    {
        _pages = new ulong[]?[_pages.Length];
        Interlocked.Exchange(ref _marks, 0);
        Volatile.Write(ref _units, null);
    }

    private void Mark(ulong rank)
    {
        var index = (uint)rank;
        var pages = _pages;
        var page = pages[index >> PageBits];
        if (page is null)
        {
            Interlocked.CompareExchange(ref pages[index >> PageBits], new ulong[(1 << PageBits) / 64], null);
            page = pages[index >> PageBits]!;
        }

        var bit = index & ((1u << PageBits) - 1);
        var before = Interlocked.Or(ref page[bit >> 6], 1UL << (int)(bit & 63));
        if ((before & (1UL << (int)(bit & 63))) != 0)
        {
            throw new InvalidOperationException("a DP rank was marked twice (ranks must be distinct)");
        }
    }

    private bool IsMarked(ulong rank)
    {
        var index = (uint)rank;
        var page = _pages[index >> PageBits];
        var bit = index & ((1u << PageBits) - 1);
        return page is not null && (page[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
    }

    private static DpCapFunctions Of(IntPtr extraInfo) => (DpCapFunctions)GCHandle.FromIntPtr(extraInfo).Target!;

    private static TopInfo TopOf(IntPtr extraInfo) => (TopInfo)GCHandle.FromIntPtr(extraInfo).Target!;

    private sealed record TopInfo(DpCapFunctions Marks, int Limit);

    /// <summary>
    /// An empty slot of a unit's state: a state is its lowest ranks sorted ascending, empty slots last. No rank is ever this
    /// value (the rank counter stops below 2^32 − 1), and the aggregate refuses a rank that is.
    /// </summary>
    private const ulong Empty = ulong.MaxValue;

    /// <summary>
    /// A state's layout: how many ranks it keeps (4 for L0 ≤ 4, 16 beyond; the aggregate marks the L0 lowest) and how a rank
    /// goes in. Each inserts branch-free: every slot becomes the smaller of itself and the larger of its lower neighbour and
    /// the rank, from the top slot down, so the largest drops out and random ranks cost no mispredicted branches.
    /// </summary>
    private interface ISlots
    {
        static abstract int Slots { get; }

        static abstract unsafe void Insert(ulong* ranks, ulong rank);
    }

    /// <summary>Up to L0 = 4: a 32-byte state, the insert unrolled (the small state is measurably cheaper at 10M rows).</summary>
    private readonly struct Four : ISlots
    {
        public static int Slots => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Insert(ulong* ranks, ulong rank)
        {
            ranks[3] = Math.Min(ranks[3], Math.Max(ranks[2], rank));
            ranks[2] = Math.Min(ranks[2], Math.Max(ranks[1], rank));
            ranks[1] = Math.Min(ranks[1], Math.Max(ranks[0], rank));
            ranks[0] = Math.Min(ranks[0], rank);
        }
    }

    private readonly struct Sixteen : ISlots
    {
        public static int Slots => MaxGroups;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Insert(ulong* ranks, ulong rank)
        {
            for (var i = MaxGroups - 1; i > 0; i--)
            {
                ranks[i] = Math.Min(ranks[i], Math.Max(ranks[i - 1], rank));
            }

            ranks[0] = Math.Min(ranks[0], rank);
        }
    }

    // DuckDB's callbacks cannot be generic; each layout gets its own, around the generic bodies below.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static ulong StateSizeFour(IntPtr info) => (ulong)(sizeof(ulong) * Four.Slots);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static ulong StateSizeSixteen(IntPtr info) => (ulong)(sizeof(ulong) * Sixteen.Slots);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void StateInitFour(IntPtr info, IntPtr state) => new Span<ulong>((void*)state, Four.Slots).Fill(Empty);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void StateInitSixteen(IntPtr info, IntPtr state) => new Span<ulong>((void*)state, Sixteen.Slots).Fill(Empty);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopUpdateFour(IntPtr info, IntPtr chunk, IntPtr* states) => TopUpdate<Four>(info, chunk, states);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopUpdateSixteen(IntPtr info, IntPtr chunk, IntPtr* states) => TopUpdate<Sixteen>(info, chunk, states);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopCombineFour(IntPtr info, IntPtr* source, IntPtr* target, ulong count) => TopCombine<Four>(source, target, count);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopCombineSixteen(IntPtr info, IntPtr* source, IntPtr* target, ulong count) => TopCombine<Sixteen>(source, target, count);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TopUpdate<TSlots>(IntPtr info, IntPtr chunk, IntPtr* states)
        where TSlots : ISlots
    {
        try
        {
            var count = NativeMethods.duckdb_data_chunk_get_size(chunk);
            var rankVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 0);
            var ranks = (ulong*)NativeMethods.duckdb_vector_get_data(rankVector);
            if (!AllValid(rankVector, count))
            {
                throw new InvalidOperationException("a DP rank is NULL");
            }

            for (ulong i = 0; i < count; i++)
            {
                var rank = ranks[i];
                if (rank == Empty)
                {
                    throw new InvalidOperationException("a DP rank is out of range");
                }

                TSlots.Insert((ulong*)states[i], rank);
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TopCombine<TSlots>(IntPtr* source, IntPtr* target, ulong count)
        where TSlots : ISlots
    {
        for (ulong i = 0; i < count; i++)
        {
            var from = (ulong*)source[i];
            var to = (ulong*)target[i];
            for (var k = 0; k < TSlots.Slots && from[k] != Empty; k++)
            {
                TSlots.Insert(to, from[k]);
            }
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TopFinalize(IntPtr info, IntPtr* source, IntPtr result, ulong count, ulong offset)
    {
        try
        {
            var top = TopOf(NativeMethods.duckdb_aggregate_function_get_extra_info(info));
            var output = (long*)NativeMethods.duckdb_vector_get_data(result);
            long marked = 0;
            for (ulong i = 0; i < count; i++)
            {
                var ranks = (ulong*)source[i];
                var kept = 0;
                while (kept < top.Limit && ranks[kept] != Empty)
                {
                    top.Marks.Mark(ranks[kept]);
                    kept++;
                }

                output[offset + i] = kept;
                marked += kept;
            }

            Interlocked.Add(ref top.Marks._marks, marked);
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Kept(IntPtr info, IntPtr chunk, IntPtr output)
    {
        try
        {
            var marks = Of(NativeMethods.duckdb_scalar_function_get_extra_info(info));
            var count = NativeMethods.duckdb_data_chunk_get_size(chunk);
            var rankVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 0);
            var totalVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 1);
            var ranks = (ulong*)NativeMethods.duckdb_vector_get_data(rankVector);
            var totals = (long*)NativeMethods.duckdb_vector_get_data(totalVector);
            var kept = (byte*)NativeMethods.duckdb_vector_get_data(output);
            if (!AllValid(rankVector, count) || !AllValid(totalVector, count))
            {
                throw new InvalidOperationException("a DP rank or mark total is NULL");
            }

            var marked = Interlocked.Read(ref marks._marks);
            for (ulong i = 0; i < count; i++)
            {
                if (totals[i] != marked)
                {
                    throw new InvalidOperationException("the kept ranks were read before every unit was capped");
                }

                kept[i] = marks.IsMarked(ranks[i]) ? (byte)1 : (byte)0;
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_scalar_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    /// <summary>The ranks issued by one registration of the rank function, and how many it may issue.</summary>
    private sealed class RankCounter(long limit)
    {
        public long Issued;

        public long Limit { get; } = limit;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Random(IntPtr info, IntPtr chunk, IntPtr output)
    {
        try
        {
            var counter = (RankCounter)GCHandle.FromIntPtr(NativeMethods.duckdb_scalar_function_get_extra_info(info)).Target!;
            var count = (long)NativeMethods.duckdb_data_chunk_get_size(chunk);
            DrawRanks((ulong*)NativeMethods.duckdb_vector_get_data(output), count, ref counter.Issued, counter.Limit, CsprngFill);
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_scalar_function_set_error(info, "DP rank failed: " + e.Message);
        }
    }

    private static readonly Action<Span<byte>> CsprngFill = RandomNumberGenerator.Fill;

    /// <summary>
    /// Writes <paramref name="count"/> ranks: 32 random bits from <paramref name="fill"/> (one call per 256 ranks) above the
    /// next values of the counter <paramref name="issued"/>; fails rather than count past <paramref name="limit"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DrawRanks(ulong* ranks, long count, ref long issued, long limit, Action<Span<byte>> fill)
    {
        var first = Interlocked.Add(ref issued, count) - count;
        if (first + count > limit)
        {
            throw new InvalidOperationException("more DP ranks than one sandbox may draw");
        }

        Span<uint> random = stackalloc uint[256];
        for (long done = 0; done < count; done += random.Length)
        {
            var block = random[..(int)Math.Min(random.Length, count - done)];
            fill(MemoryMarshal.AsBytes(block));
            for (var i = 0; i < block.Length; i++)
            {
                ranks[done + i] = ((ulong)block[i] << 32) | (ulong)(first + done + i);
            }
        }

        random.Clear();
    }

    /// <summary>
    /// One per-unit value onto the grid: NULL and NaN become 0, ±∞ and every other value are clamped to [lower, upper], divided
    /// by the granularity, rounded half to even and clamped to [low, high], the grid range. Exact where the grid range lies
    /// within ±2^53 (<see cref="MaxGridValue"/>), which DpTotalsQuery ensures; the bounds themselves are checked on every row.
    /// </summary>
    private static long ToGrid(double value, double lower, double upper, double granularity, long low, long high)
    {
        if (double.IsNaN(value))
        {
            value = 0;
        }

        var scaled = Math.Min(Math.Max(value, lower), upper) / granularity;
        return (long)Math.Min(Math.Max(Math.Round(scaled, MidpointRounding.ToEven), low), high);
    }

    /// <summary>The largest grid value <see cref="GridFunction"/> takes (2^53: every integer up to it is a double).</summary>
    public const long MaxGridValue = 1L << 53;

    private static bool GridBoundsHold(double lower, double upper, double granularity, long low, long high) =>
        double.IsFinite(lower) && double.IsFinite(upper) && lower <= upper && double.IsFinite(granularity) && granularity > 0
        && low <= high && low >= -MaxGridValue && high <= MaxGridValue;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Grid(IntPtr info, IntPtr chunk, IntPtr output)
    {
        try
        {
            var count = NativeMethods.duckdb_data_chunk_get_size(chunk);
            var valueVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 0);
            var values = (double*)NativeMethods.duckdb_vector_get_data(valueVector);
            var validity = NativeMethods.duckdb_vector_get_validity(valueVector);
            var lowers = (double*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 1));
            var uppers = (double*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 2));
            var granularities = (double*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 3));
            var lows = (long*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 4));
            var highs = (long*)NativeMethods.duckdb_vector_get_data(NativeMethods.duckdb_data_chunk_get_vector(chunk, 5));
            for (ulong column = 1; column < 6; column++)
            {
                if (!AllValid(NativeMethods.duckdb_data_chunk_get_vector(chunk, column), count))
                {
                    throw new InvalidOperationException("a grid bound is NULL");
                }
            }

            var grid = (long*)NativeMethods.duckdb_vector_get_data(output);
            for (ulong i = 0; i < count; i++)
            {
                if (!GridBoundsHold(lowers[i], uppers[i], granularities[i], lows[i], highs[i]))
                {
                    throw new InvalidOperationException("grid bounds out of range");
                }

                grid[i] = ToGrid(IsValid(validity, i) ? values[i] : 0.0, lowers[i], uppers[i], granularities[i], lows[i], highs[i]);
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_scalar_function_set_error(info, "DP clamp failed: " + e.Message);
        }
    }

    private static unsafe bool AllValid(IntPtr vector, ulong count)
    {
        var validity = NativeMethods.duckdb_vector_get_validity(vector);
        if (validity is null)
        {
            return true;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (!IsValid(validity, i))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether row <paramref name="row"/> of a vector is not NULL, given its validity mask (null: every row is valid).</summary>
    private static unsafe bool IsValid(ulong* validity, ulong row) => validity is null || (validity[row >> 6] & (1UL << (int)(row & 63))) != 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeHandle(IntPtr handle) => GCHandle.FromIntPtr(handle).Free();
}

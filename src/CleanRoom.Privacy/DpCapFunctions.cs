using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DuckDB.NET.Data;

namespace CleanRoom.Privacy;

/// <summary>
/// The two native functions of the DP contribution cap in <see cref="DpPlan.TotalsSql"/>, registered through DuckDB's C API
/// (DuckDB.NET wraps scalar functions only, and through its per-value readers the same bitmap test was slower than the join
/// it replaces):
/// <list type="bullet">
/// <item><c>__cr_cap_top4</c> / <c>__cr_cap_top16(rank UBIGINT, l0 BIGINT) → BIGINT</c>, an aggregate run per unit (<c>GROUP BY __cr_unit</c>): it keeps
/// the unit's L0 lowest ranks in a fixed-size state, and when DuckDB finalizes the unit it marks those ranks as kept and
/// returns how many it marked.</item>
/// <item><c>__cr_cap_kept(rank UBIGINT, marks BIGINT) → BOOLEAN</c>: whether a rank was marked. <c>marks</c> is the total the
/// aggregate returned over all units; the function fails the statement unless exactly that many ranks are marked, so it can
/// never read the marks before every unit is finalized.</item>
/// </list>
/// A rank's low 32 bits are the sandbox's counter (<see cref="DpPlan.RandomFunction"/>), distinct for every rank, so the
/// marks are a bitmap indexed by them. Unit identity stays DuckDB's own (its GROUP BY), so no unit value reaches C#.
/// </summary>
public sealed class DpCapFunctions
{
    /// <summary>The aggregate's name prefix: <c>__cr_cap_top4</c> and <c>__cr_cap_top16</c> hold up to 4 and 16 ranks (<see cref="TopFor"/>).</summary>
    public const string TopFunction = "__cr_cap_top";
    public const string KeptFunction = "__cr_cap_kept";

    /// <summary>The largest L0 the aggregate's fixed state holds; <see cref="DpPlan.TotalsSql"/> uses a window beyond it.</summary>
    public const int MaxGroups = 16;

    // A small state for the usual small L0: per-unit states are random accesses, and at 10M rows a 40-byte state is
    // measurably cheaper than a 136-byte one.
    private static readonly int[] Capacities = [4, MaxGroups];

    private const int PageBits = 16;
    private ulong[]?[] _pages = new ulong[]?[1 << (32 - PageBits)];
    private long _marks;

    private DpCapFunctions()
    {
    }

    /// <summary>Registers the functions (both aggregates and the test) on <paramref name="connection"/> (open), with marks of their own.</summary>
    public static DpCapFunctions Register(DuckDBConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var marks = new DpCapFunctions();
        var handle = connection.NativeConnection.DangerousGetHandle();
        var unsignedBig = NativeMethods.duckdb_create_logical_type(9); // UBIGINT
        var big = NativeMethods.duckdb_create_logical_type(5); // BIGINT
        var boolean = NativeMethods.duckdb_create_logical_type(1); // BOOLEAN
        try
        {
            unsafe
            {
                var topState = 0;
                foreach (var capacity in Capacities)
                {
                    var top = NativeMethods.duckdb_create_aggregate_function();
                    NativeMethods.duckdb_aggregate_function_set_name(top, TopFunction + capacity.ToString(CultureInfo.InvariantCulture));
                    NativeMethods.duckdb_aggregate_function_add_parameter(top, unsignedBig);
                    NativeMethods.duckdb_aggregate_function_add_parameter(top, big);
                    NativeMethods.duckdb_aggregate_function_set_return_type(top, big);
                    NativeMethods.duckdb_aggregate_function_set_functions(top, &StateSize, &StateInit, &TopUpdate, &TopCombine, &TopFinalize);
                    NativeMethods.duckdb_aggregate_function_set_extra_info(top, GCHandle.ToIntPtr(GCHandle.Alloc(new TopInfo(marks, capacity))), &FreeHandle);
                    topState |= NativeMethods.duckdb_register_aggregate_function(handle, top);
                    NativeMethods.duckdb_destroy_aggregate_function(ref top);
                }

                var kept = NativeMethods.duckdb_create_scalar_function();
                NativeMethods.duckdb_scalar_function_set_name(kept, KeptFunction);
                NativeMethods.duckdb_scalar_function_add_parameter(kept, unsignedBig);
                NativeMethods.duckdb_scalar_function_add_parameter(kept, big);
                NativeMethods.duckdb_scalar_function_set_return_type(kept, boolean);
                NativeMethods.duckdb_scalar_function_set_volatile(kept);
                NativeMethods.duckdb_scalar_function_set_function(kept, &Kept);
                NativeMethods.duckdb_scalar_function_set_extra_info(kept, GCHandle.ToIntPtr(GCHandle.Alloc(marks)), &FreeHandle);
                var keptState = NativeMethods.duckdb_register_scalar_function(handle, kept);
                NativeMethods.duckdb_destroy_scalar_function(ref kept);
                if (topState != 0 || keptState != 0)
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
        }

        return marks;
    }

    /// <summary>The aggregate that holds <paramref name="l0"/> ranks (1 ≤ L0 ≤ <see cref="MaxGroups"/>): the smallest that fits.</summary>
    public static string TopFor(int l0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(l0, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(l0, MaxGroups);
        return TopFunction + Capacities.First(c => c >= l0).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Forgets every mark; call before each statement that caps (ranks never repeat, but the count must start at 0).</summary>
    public void Reset()
    {
        _pages = new ulong[]?[_pages.Length];
        Interlocked.Exchange(ref _marks, 0);
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

    private sealed record TopInfo(DpCapFunctions Marks, int Capacity);

    /// <summary>A unit's state: the count and L0, then room for the aggregate's capacity of ranks.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct TopState
    {
        public int Count;
        public int Limit;
    }

    private static unsafe ulong* Ranks(TopState* state) => (ulong*)(state + 1);

    /// <summary>Keeps the <c>Limit</c> lowest ranks, sorted ascending.</summary>
    private static unsafe void Insert(TopState* state, ulong rank)
    {
        var ranks = Ranks(state);
        var count = state->Count;
        int i;
        if (count < state->Limit)
        {
            i = count;
            state->Count = count + 1;
        }
        else if (rank < ranks[count - 1])
        {
            i = count - 1;
        }
        else
        {
            return;
        }

        while (i > 0 && ranks[i - 1] > rank)
        {
            ranks[i] = ranks[i - 1];
            i--;
        }

        ranks[i] = rank;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe ulong StateSize(IntPtr info)
    {
        try
        {
            return (ulong)(sizeof(TopState) + (sizeof(ulong) * TopOf(NativeMethods.duckdb_aggregate_function_get_extra_info(info)).Capacity));
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
            return 0;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void StateInit(IntPtr info, IntPtr state)
    {
        var top = (TopState*)state;
        top->Count = 0;
        top->Limit = 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopUpdate(IntPtr info, IntPtr chunk, IntPtr* states)
    {
        try
        {
            var count = NativeMethods.duckdb_data_chunk_get_size(chunk);
            var rankVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 0);
            var limitVector = NativeMethods.duckdb_data_chunk_get_vector(chunk, 1);
            var ranks = (ulong*)NativeMethods.duckdb_vector_get_data(rankVector);
            var limits = (long*)NativeMethods.duckdb_vector_get_data(limitVector);
            if (!AllValid(rankVector, count) || !AllValid(limitVector, count))
            {
                throw new InvalidOperationException("a DP rank or L0 is NULL");
            }

            var capacity = TopOf(NativeMethods.duckdb_aggregate_function_get_extra_info(info)).Capacity;
            for (ulong i = 0; i < count; i++)
            {
                var state = (TopState*)states[i];
                var limit = limits[i];
                if (limit < 1 || limit > capacity || (state->Limit != 0 && state->Limit != limit))
                {
                    throw new InvalidOperationException("L0 out of the native cap's range");
                }

                state->Limit = (int)limit;
                Insert(state, ranks[i]);
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopCombine(IntPtr info, IntPtr* source, IntPtr* target, ulong count)
    {
        try
        {
            for (ulong i = 0; i < count; i++)
            {
                var from = (TopState*)source[i];
                var to = (TopState*)target[i];
                if (from->Count == 0)
                {
                    continue;
                }

                if (to->Limit != 0 && to->Limit != from->Limit)
                {
                    throw new InvalidOperationException("two L0 in one statement");
                }

                to->Limit = from->Limit;
                var ranks = Ranks(from);
                for (var k = 0; k < from->Count; k++)
                {
                    Insert(to, ranks[k]);
                }
            }
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void TopFinalize(IntPtr info, IntPtr* source, IntPtr result, ulong count, ulong offset)
    {
        try
        {
            var marks = TopOf(NativeMethods.duckdb_aggregate_function_get_extra_info(info)).Marks;
            var output = (long*)NativeMethods.duckdb_vector_get_data(result);
            long marked = 0;
            for (ulong i = 0; i < count; i++)
            {
                var state = (TopState*)source[i];
                var ranks = Ranks(state);
                for (var k = 0; k < state->Count; k++)
                {
                    marks.Mark(ranks[k]);
                }

                output[offset + i] = state->Count;
                marked += state->Count;
            }

            Interlocked.Add(ref marks._marks, marked);
        }
        catch (Exception e)
        {
            NativeMethods.duckdb_aggregate_function_set_error(info, "DP cap failed: " + e.Message);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
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

    private static unsafe bool AllValid(IntPtr vector, ulong count)
    {
        var validity = NativeMethods.duckdb_vector_get_validity(vector);
        if (validity is null)
        {
            return true;
        }

        for (ulong i = 0; i < count; i++)
        {
            if ((validity[i >> 6] & (1UL << (int)(i & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeHandle(IntPtr handle) => GCHandle.FromIntPtr(handle).Free();
}

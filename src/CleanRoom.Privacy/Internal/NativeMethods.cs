using System.Runtime.InteropServices;

namespace CleanRoom.Privacy;

/// <summary>The few DuckDB C API entry points <see cref="DpCapFunctions"/> needs (DuckDB's own library, bundled by DuckDB.NET).</summary>
internal static unsafe partial class NativeMethods
{
    private const string Library = "duckdb";

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_create_logical_type(int type);

    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_logical_type(ref IntPtr type);

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_create_aggregate_function();

    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_aggregate_function(ref IntPtr function);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void duckdb_aggregate_function_set_name(IntPtr function, string name);

    [LibraryImport(Library)]
    internal static partial void duckdb_aggregate_function_add_parameter(IntPtr function, IntPtr type);

    [LibraryImport(Library)]
    internal static partial void duckdb_aggregate_function_set_return_type(IntPtr function, IntPtr type);

    [LibraryImport(Library)]
    internal static partial void duckdb_aggregate_function_set_functions(
        IntPtr function,
        delegate* unmanaged[Cdecl]<IntPtr, ulong> stateSize,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> init,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr*, void> update,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr*, ulong, void> combine,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr, ulong, ulong, void> finalize);

    [LibraryImport(Library)]
    internal static partial void duckdb_aggregate_function_set_extra_info(IntPtr function, IntPtr extraInfo, delegate* unmanaged[Cdecl]<IntPtr, void> destroy);

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_aggregate_function_get_extra_info(IntPtr info);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void duckdb_aggregate_function_set_error(IntPtr info, string error);

    [LibraryImport(Library)]
    internal static partial int duckdb_register_aggregate_function(IntPtr connection, IntPtr function);

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_create_scalar_function();

    [LibraryImport(Library)]
    internal static partial void duckdb_destroy_scalar_function(ref IntPtr function);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void duckdb_scalar_function_set_name(IntPtr function, string name);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_add_parameter(IntPtr function, IntPtr type);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_set_return_type(IntPtr function, IntPtr type);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_set_volatile(IntPtr function);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_set_special_handling(IntPtr function);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_set_function(IntPtr function, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, void> execute);

    [LibraryImport(Library)]
    internal static partial void duckdb_scalar_function_set_extra_info(IntPtr function, IntPtr extraInfo, delegate* unmanaged[Cdecl]<IntPtr, void> destroy);

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_scalar_function_get_extra_info(IntPtr info);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void duckdb_scalar_function_set_error(IntPtr info, string error);

    [LibraryImport(Library)]
    internal static partial int duckdb_register_scalar_function(IntPtr connection, IntPtr function);

    [LibraryImport(Library)]
    internal static partial ulong duckdb_data_chunk_get_size(IntPtr chunk);

    [LibraryImport(Library)]
    internal static partial IntPtr duckdb_data_chunk_get_vector(IntPtr chunk, ulong index);

    [LibraryImport(Library)]
    internal static partial void* duckdb_vector_get_data(IntPtr vector);

    [LibraryImport(Library)]
    internal static partial ulong* duckdb_vector_get_validity(IntPtr vector);
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CleanRoom.Enclave;

/// <summary>
/// An anonymous in-memory file (Linux memfd_create): decrypted plaintext goes here and DuckDB
/// reads it through /proc/self/fd/N, so plaintext is never written to a disk-backed file system.
/// The file disappears when the handle is closed. (No swap is assumed in the confidential VM.)
/// </summary>
public sealed partial class MemoryFile : IDisposable
{
    private const uint MfdCloexec = 1;

    private readonly SafeFileHandle _handle;

    private MemoryFile(SafeFileHandle handle, int fd)
    {
        _handle = handle;
        Path = $"/proc/self/fd/{fd}";
    }

    /// <summary>The path DuckDB opens; valid only in this process while the file is open.</summary>
    public string Path { get; }

    public static MemoryFile Create(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("in-memory inputs need Linux memfd_create");
        }

        var fd = MemfdCreate(name, MfdCloexec);
        if (fd < 0)
        {
            throw new IOException($"memfd_create failed (errno {Marshal.GetLastPInvokeError()})");
        }

        return new MemoryFile(new SafeFileHandle(fd, ownsHandle: true), fd);
    }

    /// <summary>A write stream positioned at the start; dispose it before DuckDB reads the file.</summary>
    public FileStream OpenWrite() => new(new SafeFileHandle(_handle.DangerousGetHandle(), ownsHandle: false), FileAccess.Write, 1 << 20);

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);
}

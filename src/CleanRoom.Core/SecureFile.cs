namespace CleanRoom.Core;

/// <summary>Writes secrets with owner-only permissions from the first byte on.</summary>
public static class SecureFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> as a new file (O_CREAT | O_EXCL): an existing file or a symlink at
    /// the path, even a dangling one, is refused with an <see cref="IOException"/> rather than overwritten or
    /// followed, so a secret is never written into a file that someone else created or can already read.
    /// </summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            throw new IOException($"refusing to write secret file {path}: something already exists at that path (it is never overwritten or followed)");
        }

        try
        {
            using (stream)
            {
                if (!OperatingSystem.IsWindows())
                {
                    // On the open handle, not the path: the umask can only have removed bits, and a path can be swapped.
                    File.SetUnixFileMode(stream.SafeFileHandle, OwnerOnly);
                }

                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            // A half-written secret file is worse than none: the next run would refuse to overwrite it.
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Refuses a private key file that other users can read.</summary>
    public static void EnsurePrivate(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"key file {path} does not exist");
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                throw new UnauthorizedAccessException($"refusing key file {path}: it is readable by other users (chmod 600 it)");
            }
        }
    }
}

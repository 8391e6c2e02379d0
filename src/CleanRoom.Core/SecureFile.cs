namespace CleanRoom.Core;

/// <summary>Writes secrets with owner-only permissions from the first byte on.</summary>
public static class SecureFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(data);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerOnly);
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

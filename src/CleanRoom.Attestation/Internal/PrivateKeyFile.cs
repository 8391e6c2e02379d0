namespace CleanRoom.Attestation.Internal;

/// <summary>Reads and writes private-key PEM files readable only by their owner (0600).</summary>
internal static class PrivateKeyFile
{
    public static void Write(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to new files; tighten a pre-existing one too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static string Read(string path) => File.ReadAllText(path);
}

using System.Diagnostics;
using System.Text;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Locates the built executables and runs them as real child processes.</summary>
internal static class Processes
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Configuration { get; } = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ServerDll => Built("src/CleanRoom.Server", "cleanroom-server.dll");

    public static string EnclaveDll => Built("enclave/CleanRoom.Enclave", "cleanroom-enclave.dll");

    public static string CliDll => Built("src/CleanRoom.Cli", "cleanroom.dll");

    public static string Policies => Path.Combine(RepoRoot, "attestation-policies");

    public static ChildProcess Start(string dll, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return new ChildProcess(Process.Start(psi)!);
    }

    /// <summary>Starts cleanroom-server in simulated mode and waits until it listens; returns it and its URL.</summary>
    public static async Task<(ChildProcess Server, Uri Url)> StartServerAsync(string dataDirectory, string simAmd, params string[] extra)
    {
        Directory.CreateDirectory(dataDirectory);
        var ready = Path.Combine(dataDirectory, "ready");
        File.Delete(ready);
        var server = Start(ServerDll, ["--data-dir", dataDirectory, "--policies", Policies, "--simulated-attestation", "--sim-amd", simAmd, "--ready-file", ready, .. extra]);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!File.Exists(ready) || (await File.ReadAllTextAsync(ready)).Length == 0)
        {
            Assert.False(server.Process.HasExited, "server exited: " + server.Output);
            Assert.True(DateTime.UtcNow < deadline, "server did not start: " + server.Output);
            await Task.Delay(100);
        }

        return (server, new Uri((await File.ReadAllTextAsync(ready)).Trim() + "/"));
    }

    /// <summary>Ends a deployment: stops its processes, disposes the parties' keys and deletes its directory (best effort).</summary>
    public static Task TearDownAsync(string root, IEnumerable<CleanRoom.Core.PartyKeys> parties, params ChildProcess?[] processes)
    {
        foreach (var process in processes)
        {
            process?.Dispose();
        }

        foreach (var keys in parties)
        {
            keys.Dispose();
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a process that is still exiting may hold a file
        }

        return Task.CompletedTask;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string dll, TimeSpan timeout, params string[] args)
    {
        using var child = Start(dll, args);
        using var cts = new CancellationTokenSource(timeout);
        await child.Process.WaitForExitAsync(cts.Token);
        child.Process.WaitForExit();
        return (child.Process.ExitCode, child.Output);
    }

    private static string Built(string project, string dll)
    {
        var path = Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; run `make test` (it builds the solution first)");
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CleanRoom.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("CleanRoom.sln not found above the test directory");
    }
}

internal sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    public ChildProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        Process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

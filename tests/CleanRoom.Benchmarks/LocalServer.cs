using System.Diagnostics;
using CleanRoom.Attestation;

namespace CleanRoom.Benchmarks;

/// <summary>A real cleanroom-server child process in simulated mode on a free loopback port, with its own temporary directory.</summary>
internal sealed class LocalServer : IAsyncDisposable
{
    private readonly Process _server;

    private LocalServer(string root, string simAmd, Process server, Uri url)
    {
        Root = root;
        SimAmd = simAmd;
        _server = server;
        Url = url;
    }

    public string Root { get; }

    /// <summary>The simulated AMD platform directory (what an in-process enclave needs to attest).</summary>
    public string SimAmd { get; }

    public Uri Url { get; }

    public static async Task<LocalServer> StartAsync(string prefix)
    {
        var root = Directory.CreateTempSubdirectory(prefix).FullName;
        var simAmd = Path.Combine(root, "sim-amd");
        using (var created = SimulatedAmdPlatform.Create())
        {
            created.Save(simAmd);
        }

        var data = Directory.CreateDirectory(Path.Combine(root, "server-data")).FullName;
        var ready = Path.Combine(data, "ready");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ServerDll(), "--data-dir", data, "--policies", Path.Combine(RepoRoot(), "attestation-policies"), "--simulated-attestation", "--sim-amd", simAmd, "--ready-file", ready })
        {
            psi.ArgumentList.Add(a);
        }

        var server = Process.Start(psi)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var started = new LocalServer(root, simAmd, server, new Uri("http://invalid/"));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!File.Exists(ready) || (await File.ReadAllTextAsync(ready)).Length == 0)
        {
            if (server.HasExited || DateTime.UtcNow > deadline)
            {
                await started.DisposeAsync();
                throw new InvalidOperationException("cleanroom-server did not start");
            }

            await Task.Delay(100);
        }

        return new LocalServer(root, simAmd, server, new Uri((await File.ReadAllTextAsync(ready)).Trim() + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited)
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>The value below which <paramref name="fraction"/> of <paramref name="values"/> lie (nearest rank).</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double fraction)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CleanRoom.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("CleanRoom.sln not found above the benchmark directory");
    }

    private static string ServerDll()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(RepoRoot(), "src", "CleanRoom.Server", "bin", configuration, "net10.0", "cleanroom-server.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built; build the solution first");
    }
}

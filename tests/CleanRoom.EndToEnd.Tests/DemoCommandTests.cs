using System.Diagnostics;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>`cleanroom demo` as a user runs it: a real process that starts the server and the enclave.</summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "cleanroom-demo-" + Guid.NewGuid().ToString("N")[..8]);

    private string[] DemoArgs(string policies) =>
        ["demo", "--rows", "5000", "--out", _out, "--server-bin", Processes.ServerDll, "--enclave-bin", Processes.EnclaveDll, "--policies", policies];

    /// <summary>Processes whose command line mentions this test's output directory (its children).</summary>
    private List<int> Children() =>
        Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => int.TryParse(n, out _)).Select(int.Parse)
            .Where(pid => pid != Environment.ProcessId && CommandLine(pid).Contains(_out, StringComparison.Ordinal) && !CommandLine(pid).Contains("cleanroom.dll", StringComparison.Ordinal))
            .ToList();

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    [Fact]
    public async Task The_demo_runs_end_to_end_and_leaves_verified_aggregate_and_dp_results_and_an_audit_export()
    {
        var (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(5), DemoArgs(Processes.Policies));
        Assert.True(code == 0, output);
        Assert.Contains("PASS  cleanroom result verify", output, StringComparison.Ordinal);
        Assert.Contains("PASS  cleanroom audit verify", output, StringComparison.Ordinal);
        Assert.Contains("result verify: PASS (SIMULATED attestation)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_out, "result.json")));
        Assert.True(File.Exists(Path.Combine(_out, "audit.json")));
        // The same query also runs in dp mode; its signed result verifies too.
        Assert.True(File.Exists(Path.Combine(_out, "result-dp.json")));
        Assert.Contains($"PASS  cleanroom result verify {Path.Combine(_out, "result-dp.json")}", output, StringComparison.Ordinal);
        Assert.Contains("the same under differential privacy (ε = 3, δ = 0.000001", output, StringComparison.Ordinal);
        Assert.Contains("privacy mode dp: ε=3, δ=0.000001, max groups per unit=4", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_out, "data", "purchases.csv")), "the demo must not keep plaintext it published");
        Assert.Empty(Children());
    }

    [Fact]
    public async Task A_failing_demo_exits_non_zero_and_stops_its_processes()
    {
        var emptyPolicies = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "cleanroom-nopolicy-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            var (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(3), DemoArgs(emptyPolicies));
            Assert.NotEqual(0, code);
            Assert.Contains("cleanroom:", output, StringComparison.Ordinal);
            Assert.Empty(Children());
        }
        finally
        {
            Directory.Delete(emptyPolicies, recursive: true);
        }
    }

    [Fact]
    public async Task Ctrl_c_stops_the_demo_and_its_processes()
    {
        using var demo = Processes.Start(Processes.CliDll, DemoArgs(Processes.Policies));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!demo.Output.Contains("4/9", StringComparison.Ordinal))
        {
            Assert.False(demo.Process.HasExited, demo.Output);
            Assert.True(DateTime.UtcNow < deadline, demo.Output);
            await Task.Delay(50);
        }

        Assert.NotEmpty(Children());
        using (var kill = Process.Start("kill", ["-INT", demo.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await demo.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(130, demo.Process.ExitCode);
        Assert.Empty(Children());
    }

    public void Dispose()
    {
        foreach (var pid in Children())
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // gone
            }
        }

        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }
}

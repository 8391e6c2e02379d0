namespace CleanRoom.EndToEnd.Tests;

/// <summary>The <c>cleanroom-enclave</c> executable's command line: nothing misspelt is taken for a default.</summary>
public sealed class EnclaveCommandTests
{
    private static Task<(int ExitCode, string Output)> EnclaveAsync(params string[] args) =>
        Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(1), args);

    [Theory]
    [InlineData("--memory-limt", "1GB")]
    [InlineData("--simulate")]
    [InlineData("--dir", "x")]
    public async Task An_unknown_option_is_refused_before_anything_runs(params string[] extra)
    {
        // The server URL is unreachable on purpose: a run that started would fail later and differently.
        var (code, output) = await EnclaveAsync(["run", "--server", "http://127.0.0.1:9/", "--simulated", .. extra]);

        Assert.Equal(2, code);
        Assert.Contains($"unknown option '{extra[0]}' for 'run'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--max-jobs", "0", "--max-jobs takes a whole number of jobs, at least 1")]
    [InlineData("--max-jobs", "x", "--max-jobs takes a whole number of jobs, at least 1")]
    [InlineData("--memory-limit", null, "--memory-limit needs a value")]
    public async Task A_missing_or_bad_value_is_refused(string option, string? value, string message)
    {
        string[] args = value is null
            ? ["run", "--server", "http://127.0.0.1:9/", option]
            : ["run", "--server", "http://127.0.0.1:9/", option, value];

        var (code, output) = await EnclaveAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sim_hardware_takes_only_its_directory()
    {
        var (code, output) = await EnclaveAsync("sim-hardware", "--dir", Path.Combine(Path.GetTempPath(), "never-written"), "--force");

        Assert.Equal(2, code);
        Assert.Contains("unknown option '--force' for 'sim-hardware'", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-written")));
    }

    [Fact]
    public async Task An_option_given_twice_is_refused_rather_than_one_value_silently_winning()
    {
        var first = Path.Combine(Path.GetTempPath(), "never-written-" + Guid.NewGuid().ToString("N"));
        var second = Path.Combine(Path.GetTempPath(), "never-written-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output) = await EnclaveAsync("sim-hardware", "--dir", first, "--dir", second);

            Assert.Equal(2, code);
            Assert.Contains("--dir is given more than once", output, StringComparison.Ordinal);
            Assert.False(Directory.Exists(first));
            Assert.False(Directory.Exists(second));
        }
        finally
        {
            foreach (var dir in new[] { first, second }.Where(Directory.Exists))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}

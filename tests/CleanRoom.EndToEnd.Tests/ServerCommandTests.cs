namespace CleanRoom.EndToEnd.Tests;

/// <summary>The <c>cleanroom-server</c> executable refuses to start with one line that says why, never a stack trace.</summary>
public sealed class ServerCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-server-cmd-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<(int ExitCode, string Output)> ServerAsync(params string[] args) =>
        Processes.RunAsync(Processes.ServerDll, TimeSpan.FromMinutes(1), args);

    [Fact]
    public async Task An_option_without_its_value_is_refused_in_one_line()
    {
        var (code, output) = await ServerAsync("--simulated-attestation", "--data-dir");

        Assert.Equal(2, code);
        Assert.Contains("cleanroom-server: --data-dir needs a value", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server-signing.key", "does not hold an Ed25519 private key")]
    [InlineData("broker-signing.pem", "does not hold an RSA private key in PEM")]
    public async Task A_damaged_server_key_stops_the_start_in_one_line(string file, string message)
    {
        var simAmd = Path.Combine(_root, "sim-amd");
        var (simCode, simOutput) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(1), "sim-hardware", "--dir", simAmd);
        Assert.True(simCode == 0, simOutput);
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var path = Path.Combine(data, file);
        await File.WriteAllBytesAsync(path, [1, 2, 3, 4, 5]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (code, output) = await ServerAsync("--data-dir", data, "--policies", Processes.Policies, "--simulated-attestation", "--sim-amd", simAmd);

        Assert.Equal(2, code);
        Assert.Contains("cleanroom-server: refused to start: ", output, StringComparison.Ordinal);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }
}

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Drives <c>cleanroom contract terminate</c> and <c>contract show</c> as the parties would.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class ContractTerminateCommandTests(CleanRoomFixture f)
{
    private Task<(int ExitCode, string Output)> CliAsync(string keys, params string[] args) =>
        Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), ["--server", f.Server.ToString(), "--keys", keys, .. args]);

    [Fact]
    public async Task Only_the_contract_manager_terminates_and_contract_show_then_says_terminated()
    {
        var id = "cli-terminate-" + Guid.NewGuid().ToString("N")[..6];
        await LongJob.CreateAsync(f.Server, f.Parties, id, f.Root, rows: 100);
        var dir = Directory.CreateTempSubdirectory("cleanroom-terminatecli-").FullName;
        try
        {
            f.Parties["manager"].Save(dir);
            f.Parties["retailer"].Save(dir);
            var (code, output) = await CliAsync(dir, "contract", "terminate", "--contract", id, "--as", "retailer");
            Assert.NotEqual(0, code);
            Assert.Contains("[auth.role_required]", output, StringComparison.Ordinal);

            (code, output) = await CliAsync(dir, "contract", "terminate", "--contract", id, "--as", "manager", "--reason", "campaign over");
            Assert.True(code == 0, output);
            Assert.Contains($"contract '{id}' is terminated", output, StringComparison.Ordinal);

            (code, output) = await CliAsync(dir, "contract", "show", "--contract", id, "--as", "manager");
            Assert.True(code == 0, output);
            Assert.Contains("terminated", output, StringComparison.Ordinal);

            (code, output) = await CliAsync(dir, "contract", "terminate", "--contract", id, "--as", "manager");
            Assert.NotEqual(0, code);
            Assert.Contains("[contract.not_active]", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

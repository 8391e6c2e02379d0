using CleanRoom.Cli;

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

    [Fact]
    public async Task Run_wait_exits_non_zero_when_its_job_is_cancelled_by_a_termination()
    {
        var id = "cli-cancelled-" + Guid.NewGuid().ToString("N")[..6];
        await LongJob.CreateAsync(f.Server, f.Parties, id, f.Root, rows: 200_000);
        var dir = Directory.CreateTempSubdirectory("cleanroom-cancelledcli-").FullName;
        try
        {
            f.Parties["advertiser"].Save(dir);
            var run = CliAsync(dir, "run", "--computation", LongJob.ComputationId(id), "--wait", "--as", "advertiser");

            using var analyst = f.Api("advertiser");
            var jobId = await QueuedJobAsync(id);
            Assert.Equal("running", (await LongJob.WaitUntilInFlightAsync(analyst, id, jobId, TimeSpan.FromMinutes(3))).State);
            using (var manager = f.Api("manager"))
            {
                await PartyOperations.TerminateContractAsync(manager, id, "end of campaign", default);
            }

            var (code, output) = await run;
            Assert.Contains($"job {jobId}: cancelled", output, StringComparison.Ordinal);
            Assert.Equal(1, code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The id of the contract's job once queued, read from the server's database (the CLI prints it only when it ends).</summary>
    private async Task<string> QueuedJobAsync(string contractId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(f.ServerData, "cleanroom.db")};Mode=ReadOnly"))
            {
                c.Open();
                using var read = c.CreateCommand();
                read.CommandText = "SELECT id FROM jobs WHERE contract_id = $c";
                read.Parameters.AddWithValue("$c", contractId);
                if (read.ExecuteScalar() is string id)
                {
                    return id;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "the run was not queued within a minute");
            await Task.Delay(100);
        }
    }
}

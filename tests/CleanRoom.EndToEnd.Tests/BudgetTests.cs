using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// The differential-privacy budget ledger against the real server process over loopback: charged before a run,
/// atomically under concurrent runs, durable across a restart, never refunded, readable by every party.
/// </summary>
public sealed class BudgetTests(BudgetDeployment d) : IClassFixture<BudgetDeployment>
{
    private const string PurchasesByCategory = "SELECT p.category, count(*) AS n FROM purchases AS p GROUP BY p.category";

    private const string ExposuresByPurchaseCategory = """
        SELECT e.campaign, count(*) AS n
        FROM exposures AS e JOIN purchases AS p ON e.customer_id = p.customer_id
        GROUP BY e.campaign
        """;

    private static DatasetBudgetView Dataset(BudgetReport report, string name) => report.Datasets.Single(x => x.Dataset == name);

    private async Task<JobView> RunAsync(string computationId)
    {
        using var api = d.Api("advertiser");
        return await PartyOperations.RunAsync(api, computationId, new Dictionary<string, string>(), default);
    }

    [Fact]
    public async Task Twenty_concurrent_runs_costing_a_quarter_against_a_remaining_budget_of_one_run_exactly_four()
    {
        // Named test 8 of issue #5.
        var contract = await d.CreateContractAsync("budget-concurrent", new PrivacyBudget(1.0m, 0.00001m), new PrivacyBudget(1.0m, 0.00001m));
        await d.ApproveAsync(contract, "budget-concurrent-q", PurchasesByCategory, BudgetDeployment.Dp(0.25m, 0.000001m));

        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            try
            {
                return (Job: await RunAsync("budget-concurrent-q"), Refusal: (CliException?)null);
            }
            catch (CliException ex)
            {
                return (Job: (JobView?)null, Refusal: ex);
            }
        })));

        var accepted = attempts.Where(a => a.Job is not null).Select(a => a.Job!.Id).ToHashSet();
        var refused = attempts.Where(a => a.Refusal is not null).Select(a => a.Refusal!).ToList();
        Assert.Equal(4, accepted.Count);
        Assert.Equal(16, refused.Count);
        Assert.All(refused, ex =>
        {
            Assert.Equal("budget.exhausted", ex.Code);
            Assert.Contains("dataset 'purchases'", ex.Message, StringComparison.Ordinal);
            Assert.Contains("ε = 0, δ = 0.000006 remains", ex.Message, StringComparison.Ordinal);
        });

        var report = await d.BudgetAsync(contract.Id);
        var purchases = Dataset(report, "purchases");
        Assert.Equal(new PrivacyBudget(1.0m, 0.000004m), purchases.Spent);
        Assert.Equal(new PrivacyBudget(0m, 0.000006m), purchases.Remaining);
        Assert.Equal(4, purchases.ChargeCount);
        Assert.Equal(accepted, purchases.Charges.Select(c => c.JobId).ToHashSet());
        Assert.Equal(0, Dataset(report, "exposures").ChargeCount); // the SQL reads only purchases

        var log = (await d.AuditAsync(contract.Id)).Entries;
        var charged = log.Where(e => e.Action == "budget.charged" && e.Target == $"budget/{contract.Id}/purchases").ToList();
        Assert.Equal(4, charged.Count);
        Assert.All(accepted, job => Assert.Single(charged, e => e.Reason!.StartsWith($"job '{job}' charged ε = 0.25, δ = 0.000001; remaining ε = ", StringComparison.Ordinal)));
        Assert.Contains(charged, e => e.Reason!.EndsWith("remaining ε = 0, δ = 0.000006", StringComparison.Ordinal));
        Assert.Equal(16, log.Count(e => e.Action == "job.queued" && e.Target == "computation/budget-concurrent-q" && e.ReasonCode == "budget.exhausted"));

        // The charges are in the SQLite file: a killed and restarted server still holds them and still refuses.
        await d.RestartServerAsync();
        var after = Dataset(await d.BudgetAsync(contract.Id), "purchases");
        Assert.Equal(purchases.Spent, after.Spent);
        Assert.Equal(purchases.Remaining, after.Remaining);
        Assert.Equal(accepted, after.Charges.Select(c => c.JobId).ToHashSet());
        var again = await Assert.ThrowsAsync<CliException>(() => RunAsync("budget-concurrent-q"));
        Assert.Equal("budget.exhausted", again.Code);
    }

    [Fact]
    public async Task A_cancelled_job_and_a_job_that_ends_without_a_result_keep_their_charges()
    {
        var contract = await d.CreateContractAsync("budget-norefund", new PrivacyBudget(1m, 0.00001m), new PrivacyBudget(1m, 0.00001m));
        await d.ApproveAsync(contract, "budget-norefund-q", PurchasesByCategory, BudgetDeployment.Dp(0.25m, 0.000001m));

        // No enclave yet, so the job stays queued until the data provider's revocation cancels it.
        var cancelled = await RunAsync("budget-norefund-q");
        using (var retailer = d.Api("retailer"))
        {
            var change = await retailer.PostAsync<JsonElement>($"api/contracts/{contract.Id}/consent/revoke", new { scope = "dataset", target = "purchases" }, default);
            Assert.Contains(cancelled.Id, change.GetProperty("cancelledJobs").EnumerateArray().Select(j => j.GetString()));
            await retailer.PostAsync<JsonElement>($"api/contracts/{contract.Id}/consent/restore", new { scope = "dataset", target = "purchases" }, default);
        }

        using (var api = d.Api("advertiser"))
        {
            Assert.Equal("cancelled", (await api.GetAsync<JobView>($"api/jobs/{cancelled.Id}", default)).State);
        }

        // The enclave ends the next one without a result: it refuses dp jobs until the DP engine lands, and the
        // ciphertext is tampered with so that it refuses the job after that as well.
        DatasetView published;
        using (var manager = d.Api("manager"))
        {
            published = (await manager.GetAsync<ContractView>($"api/contracts/{contract.Id}", default)).Datasets.Single(x => x.Name == "purchases");
        }

        var blob = Path.Combine(d.ServerData, "blobs", published.CiphertextSha256 + ".cre");
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(blob, bytes);
        JobView ended;
        using (var enclave = d.StartEnclave())
        using (var api = d.Api("advertiser"))
        {
            var job = await RunAsync("budget-norefund-q");
            ended = await PartyOperations.WaitAsync(api, job.Id, TimeSpan.FromMinutes(3), default);
        }

        Assert.True(ended.State is "refused" or "failed", $"job {ended.Id} is {ended.State}");

        var purchases = Dataset(await d.BudgetAsync(contract.Id), "purchases");
        Assert.Equal(new PrivacyBudget(0.5m, 0.000002m), purchases.Spent);
        Assert.Equal(new PrivacyBudget(0.5m, 0.000008m), purchases.Remaining);
        Assert.Equal(new[] { cancelled.Id, ended.Id }, purchases.Charges.Select(c => c.JobId));
    }

    [Fact]
    public async Task A_dp_computation_reading_a_dataset_without_budget_is_refused_at_proposal_and_charges_nothing()
    {
        // The run-time refusal (budget.none) is the ledger's second line; the proposal check comes first.
        var contract = await d.CreateContractAsync("budget-none", new PrivacyBudget(1m, 0.00001m), exposures: null);
        var ex = await Assert.ThrowsAsync<CliException>(() => d.ApproveAsync(contract, "budget-none-q", ExposuresByPurchaseCategory, BudgetDeployment.Dp(0.25m, 0.000001m)));
        Assert.Equal("privacy.no_budget", ex.Code);
        Assert.Contains("dataset 'exposures'", ex.Message, StringComparison.Ordinal);

        var report = await d.BudgetAsync(contract.Id);
        Assert.All(report.Datasets, x => Assert.Equal(0, x.ChargeCount));
        Assert.Null(Dataset(report, "exposures").Total);
        Assert.Null(Dataset(report, "exposures").Remaining);
        Assert.Equal(new PrivacyBudget(1m, 0.00001m), Dataset(report, "purchases").Remaining);
        var log = (await d.AuditAsync(contract.Id)).Entries;
        Assert.DoesNotContain(log, e => e.Action == "budget.charged" && e.Target.StartsWith($"budget/{contract.Id}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_aggregate_run_charges_nothing()
    {
        var contract = await d.CreateContractAsync("budget-aggregate", new PrivacyBudget(1m, 0.00001m), new PrivacyBudget(1m, 0.00001m));
        await d.ApproveAsync(contract, "budget-aggregate-q", PurchasesByCategory, new PrivacySpec(PrivacySpec.AggregateMode, 10));

        var job = await RunAsync("budget-aggregate-q");
        Assert.Equal("queued", job.State);
        var report = await d.BudgetAsync(contract.Id);
        Assert.All(report.Datasets, x =>
        {
            Assert.Equal(0, x.ChargeCount);
            Assert.Equal(x.Total, x.Remaining);
        });
    }

    [Fact]
    public async Task Every_party_reads_the_budget_and_a_stranger_is_refused()
    {
        var contract = await d.CreateContractAsync("budget-read", new PrivacyBudget(2m, 0m), new PrivacyBudget(3m, 0.00001m));
        foreach (var party in new[] { "retailer", "advertiser", "manager" })
        {
            var report = await d.BudgetAsync(contract.Id, party);
            Assert.Equal(new PrivacyBudget(2m, 0m), Dataset(report, "purchases").Remaining);
        }

        var stranger = await Assert.ThrowsAsync<CliException>(() => d.BudgetAsync(contract.Id, "mallory"));
        Assert.Equal("auth.not_a_party", stranger.Code);
        var missing = await Assert.ThrowsAsync<CliException>(() => d.BudgetAsync("no-such-contract"));
        Assert.Equal("contract.not_found", missing.Code);
    }

    [Fact]
    public async Task The_cli_shows_the_budget_as_a_table_and_as_json()
    {
        var contract = await d.CreateContractAsync("budget-cli", new PrivacyBudget(1.5m, 0.00001m), exposures: null);
        await d.ApproveAsync(contract, "budget-cli-q", PurchasesByCategory, BudgetDeployment.Dp(0.5m, 0.000001m));
        var job = await RunAsync("budget-cli-q");

        var keys = Directory.CreateTempSubdirectory("cleanroom-budgetcli-").FullName;
        try
        {
            d.Parties["retailer"].Save(keys);
            var (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), "--server", d.Server.ToString(), "--keys", keys, "budget", "show", "--contract", contract.Id, "--as", "retailer", "--json");
            Assert.True(code == 0, output);
            var report = JsonSerializer.Deserialize<BudgetReport>(output, CanonicalJson.SerializerOptions)!;
            Assert.Equal(new PrivacyBudget(1m, 0.000009m), Dataset(report, "purchases").Remaining);
            Assert.Equal(job.Id, Assert.Single(Dataset(report, "purchases").Charges).JobId);

            (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), "--server", d.Server.ToString(), "--keys", keys, "budget", "show", "--contract", contract.Id, "--as", "retailer", "--charges");
            Assert.True(code == 0, output);
            Assert.Contains("1, 0.000009", output, StringComparison.Ordinal);
            Assert.Contains($"charge: purchases ε = 0.5, δ = 0.000001 by job {job.Id} (computation budget-cli-q)", output, StringComparison.Ordinal);
            Assert.Contains("datasets without a budget (-) refuse every dp-mode run", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }
}

using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// A deployment of its own for the budget tests, because they restart the server (on the same SQLite file) and
/// start the enclave only when a test wants its jobs to end. Contracts are the demo contract with budgets added.
/// </summary>
public sealed class BudgetDeployment : IAsyncLifetime
{
    public const int Rows = 1200;

    private ChildProcess? _server;

    public string Root { get; } = Directory.CreateTempSubdirectory("cleanroom-budget-").FullName;

    public string ServerData => Path.Combine(Root, "server-data");

    public string SimAmd => Path.Combine(Root, "sim-amd");

    public Uri Server { get; private set; } = null!;

    public Dictionary<string, PartyKeys> Parties { get; } = [];

    internal ApiClient Api(string party) => new(Server, Parties[party]);

    public async Task InitializeAsync()
    {
        var (code, output) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(2), "sim-hardware", "--dir", SimAmd);
        Assert.True(code == 0, output);
        Directory.CreateDirectory(ServerData);
        foreach (var name in new[] { "retailer", "advertiser", "manager", "mallory" })
        {
            Parties[name] = PartyKeys.Create(name);
        }

        await StartServerAsync();
    }

    public async Task StartServerAsync()
    {
        (_server, Server) = await Processes.StartServerAsync(ServerData, SimAmd);
    }

    /// <summary>SIGKILLs the server (no shutdown hooks, no flush) and starts it again on the same data directory.</summary>
    public async Task RestartServerAsync()
    {
        _server!.Process.Kill();
        await _server.Process.WaitForExitAsync();
        _server.Dispose();
        await StartServerAsync();
    }

    internal ChildProcess StartEnclave() =>
        Processes.Start(Processes.EnclaveDll, "run", "--server", Server.ToString(), "--simulated", "--sim-amd", SimAmd, "--memory-limit", "1GB");

    /// <summary>Drafts the demo contract with the given budgets, has every party sign it and publishes both datasets.</summary>
    public async Task<ContractDocument> CreateContractAsync(string id, PrivacyBudget? purchases, PrivacyBudget? exposures)
    {
        var demo = CleanRoomFixture.TestContract(id, Parties);
        var contract = demo with
        {
            Datasets = demo.Datasets.Select(d => d with { Budget = d.Name == "purchases" ? purchases : exposures }).ToList(),
        };
        using (var manager = Api("manager"))
        {
            await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
        }

        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            using var api = Api(name);
            await PartyOperations.SignContractAsync(api, id, default);
        }

        var data = Directory.CreateDirectory(Path.Combine(Root, id)).FullName;
        DemoData.WritePurchases(Path.Combine(data, "purchases.csv"), Rows);
        DemoData.WriteExposures(Path.Combine(data, "exposures.csv"), Rows);
        using (var retailer = Api("retailer"))
        {
            await PartyOperations.PublishDatasetAsync(retailer, id, "purchases", Path.Combine(data, "purchases.csv"), data, null, default);
        }

        using (var advertiser = Api("advertiser"))
        {
            await PartyOperations.PublishDatasetAsync(advertiser, id, "exposures", Path.Combine(data, "exposures.csv"), data, null, default);
        }

        return contract;
    }

    /// <summary>Proposes a computation as the advertiser and has every required approver approve it.</summary>
    public async Task ApproveAsync(ContractDocument contract, string id, string sql, PrivacySpec privacy)
    {
        var computation = new ComputationDocument
        {
            Id = id,
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
            Sql = sql,
            Privacy = privacy,
            Recipients = ["advertiser"],
            ProposedBy = "advertiser",
        };
        using (var advertiser = Api("advertiser"))
        {
            var view = await PartyOperations.ProposeAsync(advertiser, computation, default);
            foreach (var approver in view.RequiredApprovers)
            {
                using var api = Api(approver);
                await PartyOperations.VoteAsync(api, id, VoteStatement.Approve, default);
            }
        }
    }

    /// <summary>A dp spec for the budget tests' queries, whose one aggregate output is the count <c>n</c>.</summary>
    public static PrivacySpec Dp(decimal epsilon, decimal delta) =>
        new(PrivacySpec.DpMode) { Dp = new DpSpec { Epsilon = epsilon, Delta = delta, Bounds = [new DpColumnBound("n", 0m, 10m)] } };

    public async Task<BudgetReport> BudgetAsync(string contractId, string party = "manager")
    {
        using var api = Api(party);
        return await PartyOperations.GetBudgetAsync(api, contractId, default);
    }

    public async Task<AuditExport> AuditAsync(string contractId)
    {
        using var api = Api("manager");
        return await api.GetAsync<AuditExport>($"api/contracts/{contractId}/audit", default);
    }

    public Task DisposeAsync() => Processes.TearDownAsync(Root, Parties.Values, _server);
}

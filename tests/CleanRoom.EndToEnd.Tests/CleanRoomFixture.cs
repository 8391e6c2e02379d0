using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// One real deployment for the whole collection: cleanroom-server and cleanroom-enclave as child
/// processes on loopback, three parties with a signed contract, two published datasets and an
/// approved computation. Tests that tamper with state restore it before they finish.
/// </summary>
public sealed class CleanRoomFixture : IAsyncLifetime
{
    public const string ComputationId = "conversions";
    public const int Rows = 6000;

    private ChildProcess? _server;
    private ChildProcess? _enclave;

    public string Root { get; } = Directory.CreateTempSubdirectory("cleanroom-e2e-").FullName;

    public string ServerData => Path.Combine(Root, "server-data");

    public Uri Server { get; private set; } = null!;

    public Dictionary<string, PartyKeys> Parties { get; } = [];

    public ContractDocument Contract { get; private set; } = null!;

    public string EnclaveOutput => _enclave?.Output ?? string.Empty;

    public string ServerOutput => _server?.Output ?? string.Empty;

    internal ApiClient Api(string party) => new(Server, Parties[party]);

    public async Task InitializeAsync()
    {
        var simAmd = Path.Combine(Root, "sim-amd");
        var (code, output) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(2), "sim-hardware", "--dir", simAmd);
        Assert.True(code == 0, output);

        (_server, Server) = await Processes.StartServerAsync(ServerData, simAmd);
        _enclave = Processes.Start(Processes.EnclaveDll, "run", "--server", Server.ToString(), "--simulated", "--sim-amd", simAmd, "--memory-limit", "1GB");

        foreach (var name in new[] { "retailer", "advertiser", "manager", "mallory" })
        {
            Parties[name] = PartyKeys.Create(name);
        }

        Contract = TestContract("e2e", Parties);
        using (var manager = Api("manager"))
        {
            await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(Contract, CanonicalJson.SerializerOptions), default);
        }

        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            using var api = Api(name);
            await PartyOperations.SignContractAsync(api, Contract.Id, default);
        }

        var data = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        DemoData.WritePurchases(Path.Combine(data, "purchases.csv"), Rows);
        DemoData.WriteExposures(Path.Combine(data, "exposures.csv"), Rows);
        using (var retailer = Api("retailer"))
        {
            await PartyOperations.PublishDatasetAsync(retailer, Contract.Id, "purchases", Path.Combine(data, "purchases.csv"), data, null, default, chunkSize: 16 * 1024);
        }

        using (var advertiser = Api("advertiser"))
        {
            await PartyOperations.PublishDatasetAsync(advertiser, Contract.Id, "exposures", Path.Combine(data, "exposures.csv"), data, null, default);
            await PartyOperations.ProposeAsync(advertiser, Computation(ComputationId, DemoData.ConversionsSql), default);
        }

        foreach (var name in new[] { "manager", "retailer", "advertiser" })
        {
            using var api = Api(name);
            await PartyOperations.VoteAsync(api, ComputationId, VoteStatement.Approve, default);
        }
    }

    public ComputationDocument Computation(string id, string sql, int k = 10) => new()
    {
        Id = id,
        ContractId = Contract.Id,
        ContractHash = Contract.Hash(),
        Sql = sql,
        Privacy = new PrivacySpec("aggregate", k),
        Recipients = ["advertiser"],
        ProposedBy = "advertiser",
    };

    /// <summary>Runs the computation as the advertiser and waits for the job to end.</summary>
    internal async Task<JobView> RunAndWaitAsync(string computationId)
    {
        using var api = Api("advertiser");
        var job = await PartyOperations.RunAsync(api, computationId, new Dictionary<string, string>(), default);
        return await PartyOperations.WaitAsync(api, job.Id, TimeSpan.FromMinutes(3), default);
    }

    /// <summary>Fetches a job's result bundle as the advertiser, asserts it verifies offline (simulated policy, the advertiser's output) and returns the verification.</summary>
    internal async Task<ResultVerification> VerifiedResultAsync(string jobId)
    {
        using var analyst = Api("advertiser");
        var bundle = await analyst.GetAsync<ResultBundle>($"api/jobs/{jobId}/result", default);
        var policy = AttestationPolicy.Load(Path.Combine(Processes.Policies, "simulated.json")).Policy!;
        var verification = ResultVerifier.Verify(bundle, policy, DateTimeOffset.UtcNow, recipient: Parties["advertiser"]);
        Assert.True(verification.IsValid, string.Join("\n", verification.Checks.Where(c => !c.Passed).Select(c => c.Name + ": " + c.Detail)));
        return verification;
    }

    internal async Task<AuditExport> AuditAsync()
    {
        using var api = Api("manager");
        return await api.GetAsync<AuditExport>($"api/contracts/{Contract.Id}/audit", default);
    }

    /// <summary>True when <paramref name="entry"/>'s target or reason holds <paramref name="text"/> (for checks that raw input is never echoed).</summary>
    internal static bool Mentions(AuditEntry entry, string text) =>
        entry.Target.Contains(text, StringComparison.Ordinal) || (entry.Reason?.Contains(text, StringComparison.Ordinal) ?? false);

    public static ContractDocument TestContract(string id, Dictionary<string, PartyKeys> parties) =>
        DemoData.Contract(id, parties, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    public Task DisposeAsync() => Processes.TearDownAsync(Root, Parties.Values, _enclave, _server);
}

[CollectionDefinition(Name)]
public sealed class CleanRoomCollection : ICollectionFixture<CleanRoomFixture>
{
    public const string Name = "cleanroom deployment";
}

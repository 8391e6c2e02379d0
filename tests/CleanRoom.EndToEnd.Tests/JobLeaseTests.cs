using System.Net;
using System.Net.Sockets;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Xunit.Abstractions;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// Restart safety. A server or an enclave killed with SIGKILL in the middle of a job: the job is not
/// left running forever, nothing the server acknowledged is lost, and the job finishes: on the same
/// attempt if the enclave was computing through the restart (it rides it out within its lease), or,
/// once the lease expires, on a second attempt after a requeue (the usual case here, since the kill
/// lands right after the key release, while the enclave is still fetching from the server). Each
/// test has its own deployment.
/// </summary>
public sealed class JobLeaseTests(ITestOutputHelper output) : IAsyncLifetime
{
    // 60 000² / 12 pairs: seconds of DuckDB work, enough to be killed in the middle of.
    private const int Rows = 60_000;

    private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-lease-").FullName;
    private readonly Dictionary<string, PartyKeys> _parties = [];
    private ChildProcess? _server;
    private ChildProcess? _enclave;
    private Uri _url = null!;
    private string _lease = "30";

    private string ServerData => Path.Combine(_root, "server-data");

    private string SimAmd => Path.Combine(_root, "sim-amd");

    public async Task InitializeAsync()
    {
        var (code, output) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(2), "sim-hardware", "--dir", SimAmd);
        Assert.True(code == 0, output);
        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            _parties[name] = PartyKeys.Create(name);
        }

        // A fixed loopback port, so that the restarted server is where the enclave expects it.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = new Uri($"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/");
            probe.Stop();
        }

    }

    public Task DisposeAsync() => Processes.TearDownAsync(_root, _parties.Values, _enclave, _server);

    [Fact]
    public async Task Killing_the_server_mid_job_loses_nothing_acknowledged_and_the_job_still_finishes()
    {
        // The default lease: a restart within it lets the enclave that runs the job finish it.
        await DeployAsync(lease: "30");
        var (contract, job) = await StartLongJobAsync("lease-server");
        SignedAuditCheckpoint saved;
        IReadOnlyList<AuditEntry> before;
        using (var api = Api("manager"))
        {
            saved = await api.GetAsync<SignedAuditCheckpoint>($"api/contracts/{contract}/audit/checkpoint", default);
            before = (await api.GetAsync<AuditExport>($"api/contracts/{contract}/audit", default)).Entries;
        }

        Kill(_server!);
        await StartServerAsync();

        using var analyst = Api("advertiser");
        var done = await PartyOperations.WaitAsync(analyst, job, TimeSpan.FromMinutes(4), default);
        Assert.True(done.State == "finished", $"job {done.State}: {done.Reason}\nenclave:\n{_enclave!.Output}");
        var bundle = await analyst.GetAsync<ResultBundle>($"api/jobs/{job}/result", default);
        Assert.Equal(LongJob.ComputationId(contract), bundle.Computation.Id);

        // Everything acknowledged before the kill is still there, in a log that extends the checkpoint taken then.
        var export = await analyst.GetAsync<AuditExport>($"api/contracts/{contract}/audit", default);
        var verification = AuditVerifier.VerifyExtends(export, saved);
        Assert.True(verification.IsValid, verification.Reason);
        var target = "job/" + job;
        Assert.Contains(before, e => e.Action == "job.keys_released" && e.Target == target);
        Assert.All(before, e => Assert.Equal(e, export.Entries[(int)e.Seq]));
        Assert.Single(export.Entries, e => e.Action == "job.finished" && e.Target == target);

        // Which way it went depends on how fast the server came back (within the lease: same enclave; later: requeued).
        output.WriteLine(string.Join(" → ", export.Entries.Where(e => e.Target == target).Select(e => e.Action + (e.ReasonCode is null ? string.Empty : $" ({e.ReasonCode})"))));
        output.WriteLine(_enclave!.Output);
    }

    [Fact]
    public async Task Killing_the_enclave_mid_job_requeues_the_job_and_a_fresh_enclave_finishes_it()
    {
        await DeployAsync(lease: "5");
        var (_, job) = await StartLongJobAsync("lease-enclave");
        Kill(_enclave!);
        StartEnclave();

        using var analyst = Api("advertiser");
        var done = await PartyOperations.WaitAsync(analyst, job, TimeSpan.FromMinutes(4), default);
        Assert.True(done.State == "finished", $"job {done.State}: {done.Reason}\nenclave:\n{_enclave!.Output}");

        var log = (await analyst.GetAsync<AuditExport>("api/contracts/lease-enclave/audit", default)).Entries.Where(e => e.Target == "job/" + job).ToList();
        var requeued = Assert.Single(log, e => e.Action == "job.requeued");
        Assert.Equal("job.lease_expired", requeued.ReasonCode);
        var starts = log.Where(e => e.Action == "job.started").ToList();
        Assert.Equal(2, starts.Count);
        Assert.NotEqual(starts[0].Actor, starts[1].Actor);
        Assert.True(starts[0].Seq < requeued.Seq && requeued.Seq < starts[1].Seq);
        Assert.Equal(starts[1].Actor, Assert.Single(log, e => e.Action == "job.finished").Actor);
    }

    private ApiClient Api(string party) => new(_url, _parties[party]);

    private async Task DeployAsync(string lease)
    {
        _lease = lease;
        await StartServerAsync();
        StartEnclave();
    }

    private async Task<(string Contract, string Job)> StartLongJobAsync(string contractId)
    {
        await LongJob.CreateAsync(_url, _parties, contractId, _root, Rows);
        using var analyst = Api("advertiser");
        var job = await PartyOperations.RunAsync(analyst, LongJob.ComputationId(contractId), new Dictionary<string, string>(), default);
        var inFlight = await LongJob.WaitUntilInFlightAsync(analyst, contractId, job.Id, TimeSpan.FromMinutes(3));
        Assert.True(inFlight.State == "running", $"job {inFlight.State} before it could be interrupted: {inFlight.Reason}");
        return (contractId, job.Id);
    }

    private static void Kill(ChildProcess child)
    {
        child.Process.Kill(); // SIGKILL on Unix: no shutdown hooks, no flush
        child.Process.WaitForExit();
        child.Dispose();
    }

    private void StartEnclave() =>
        _enclave = Processes.Start(Processes.EnclaveDll, "run", "--server", _url.ToString(), "--simulated", "--sim-amd", SimAmd, "--memory-limit", "1GB");

    private async Task StartServerAsync() =>
        (_server, _) = await Processes.StartServerAsync(ServerData, SimAmd, "--urls", _url.GetLeftPart(UriPartial.Authority), "--job-lease", _lease);
}

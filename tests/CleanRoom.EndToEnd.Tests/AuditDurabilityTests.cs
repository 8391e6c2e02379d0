using System.Collections.Concurrent;
using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Kills the real server with SIGKILL during a burst of appends; no acknowledged entry may be lost.</summary>
public sealed class AuditDurabilityTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-kill-").FullName;
    private readonly Dictionary<string, PartyKeys> _parties = [];
    private ChildProcess? _server;

    private string ServerData => Path.Combine(_root, "server-data");

    private string SimAmd => Path.Combine(_root, "sim-amd");

    public async Task InitializeAsync()
    {
        var (code, output) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(2), "sim-hardware", "--dir", SimAmd);
        Assert.True(code == 0, output);
        Directory.CreateDirectory(ServerData);
        foreach (var name in new[] { "retailer", "advertiser", "manager", "mallory" })
        {
            _parties[name] = PartyKeys.Create(name);
        }
    }

    public Task DisposeAsync() => Processes.TearDownAsync(_root, [], _server);

    private async Task<Uri> StartServerAsync()
    {
        (_server, var url) = await Processes.StartServerAsync(ServerData, SimAmd);
        return url;
    }

    private static byte[] Draft(string id, Dictionary<string, PartyKeys> parties) =>
        JsonSerializer.SerializeToUtf8Bytes(CleanRoomFixture.TestContract(id, parties), CanonicalJson.SerializerOptions);

    [Fact]
    public async Task Killing_the_server_during_a_burst_of_appends_loses_no_acknowledged_entry()
    {
        var server = await StartServerAsync();
        using (var first = new ApiClient(server, _parties["manager"]))
        {
            await PartyOperations.DraftContractAsync(first, Draft("kill-0", _parties), default);
        }

        SignedAuditCheckpoint saved;
        using (var api = new ApiClient(server, _parties["manager"]))
        {
            saved = await api.GetAsync<SignedAuditCheckpoint>("api/contracts/kill-0/audit/checkpoint", default);
        }

        // Eight writers draft contracts as fast as they can; each 201 means "contract.drafted" is durable.
        var acknowledged = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var next = 0;
        var writers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            using var api = new ApiClient(server, _parties["manager"]);
            while (!stop.IsCancellationRequested)
            {
                var id = "kill-" + Interlocked.Increment(ref next);
                try
                {
                    await PartyOperations.DraftContractAsync(api, Draft(id, _parties), default);
                    acknowledged.Add(id);
                }
                catch (Exception ex) when (ex is HttpRequestException or CliException or IOException or TaskCanceledException)
                {
                    return;
                }
            }
        })).ToList();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (acknowledged.Count < 100 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        _server!.Process.Kill(); // SIGKILL on Unix: no shutdown hooks, no flush
        await _server.Process.WaitForExitAsync();
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        _server.Dispose();
        Assert.True(acknowledged.Count >= 100, "the burst did not get going");

        server = await StartServerAsync();
        using var after = new ApiClient(server, _parties["manager"]);
        var export = await after.GetAsync<AuditExport>("api/contracts/kill-0/audit", default);
        var verification = AuditVerifier.VerifyExtends(export, saved);
        Assert.True(verification.IsValid, verification.Reason);

        var drafted = export.Entries.Where(e => e.Action == "contract.drafted" && e.Outcome == "ok").Select(e => e.Target).ToHashSet();
        var lost = acknowledged.Where(id => !drafted.Contains("contract/" + id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged entries were lost: {string.Join(", ", lost.Take(5))}");
    }
}

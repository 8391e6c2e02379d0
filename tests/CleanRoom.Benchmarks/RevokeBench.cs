using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Enclave;

namespace CleanRoom.Benchmarks;

/// <summary>
/// Revocation propagation on loopback against a real cleanroom-server child process, from the moment
/// the data provider's signed revoke call returns:
/// (a) until a key release (the consent lock: wrapped data keys for a claimed job that reads the
///     revoked dataset) is refused — the bench is the enclave here;
/// (b) until an in-flight job is stopped: an enclave host (in this process, with DuckDB) running a long
///     join has had its heartbeat woken, interrupted its work and had its cancellation report accepted
///     by the server (timed when the host logs the cancellation, after the report's response).
/// Each iteration restores consent, queues a fresh job and revokes again.
/// </summary>
internal static class RevokeBench
{
    private const string ContractId = "bench-revoke";

    // One customer on both sides: the join is rows² pairs, so DuckDB is busy for seconds.
    private const int Rows = 20_000;

    private const string Sql = """
        SELECT e.campaign, count(*) AS pairs
        FROM exposures AS e
        JOIN purchases AS p ON e.customer_id = p.customer_id
        GROUP BY e.campaign
        """;

    private sealed record Change(string Scope, string Target);

    private sealed record ChangeResult(string Scope, string Target, string State, bool Changed, IReadOnlyList<string> CancelledJobs);

    public static async Task RunAsync(TextWriter output, int releaseIterations, int inFlightIterations)
    {
        await using var server = await LocalServer.StartAsync("cleanroom-bench-revoke-");
        var parties = new[] { "retailer", "advertiser", "manager" }.ToDictionary(n => n, PartyKeys.Create);
        try
        {
            await CreateContractAsync(server, parties);
            using var retailer = new ApiClient(server.Url, parties["retailer"]);
            using var analyst = new ApiClient(server.Url, parties["advertiser"]);
            var release = await MeasureKeyReleaseAsync(server, retailer, analyst, releaseIterations);
            output.WriteLine(
                $"revoke → key release refused (loopback, {release.Count} iterations after 5 warm-up): " +
                $"p50 {LocalServer.Percentile(release, 0.5):N2} ms, p99 {LocalServer.Percentile(release, 0.99):N2} ms");
            var (cancel, interrupted) = await MeasureInFlightAsync(server, retailer, analyst, inFlightIterations);
            output.WriteLine(
                $"revoke → in-flight job cancelled and reported by the enclave (loopback, {cancel.Count} iterations after 2 warm-up; DuckDB interrupted in {interrupted} of them): " +
                $"p50 {LocalServer.Percentile(cancel, 0.5):N2} ms, p99 {LocalServer.Percentile(cancel, 0.99):N2} ms");
        }
        finally
        {
            foreach (var party in parties.Values)
            {
                party.Dispose();
            }
        }
    }

    private static async Task<List<double>> MeasureKeyReleaseAsync(LocalServer server, ApiClient retailer, ApiClient analyst, int iterations)
    {
        using var keys = new EnclaveKeys();
        using var client = new EnclaveServerClient(new HttpClient { BaseAddress = server.Url });
        using var evidence = new SimulatedEvidenceSource(SimulatedAmdPlatform.Load(server.SimAmd));
        client.Token = await new EnclaveAttestation(evidence, client, SimulatedAmdPlatform.SimulatedIssuer, TimeProvider.System).AttestAsync(keys, nonce: null, default);
        var times = new List<double>(iterations);
        for (var i = -5; i < iterations; i++)
        {
            await ChangeAsync(retailer, "restore");
            var job = await PartyOperations.RunAsync(analyst, ContractId + "-pairs", new Dictionary<string, string>(), default);
            var ticket = await client.ClaimAsync(default) ?? throw new InvalidOperationException("the queued job was not claimable");
            if (ticket.JobId != job.Id)
            {
                throw new InvalidOperationException("claimed another job than the one queued");
            }

            await ChangeAsync(retailer, "revoke");
            var revoked = Stopwatch.GetTimestamp();
            try
            {
                await client.DatasetKeysAsync(job.Id, default);
                throw new InvalidOperationException("the key release was not refused after the revocation");
            }
            catch (JobRefusalException)
            {
                // Refused, as it must be.
            }

            if (i >= 0)
            {
                times.Add(Stopwatch.GetElapsedTime(revoked).TotalMilliseconds);
            }
        }

        await ChangeAsync(retailer, "restore");
        return times;
    }

    private static async Task<(List<double> Times, int Interrupted)> MeasureInFlightAsync(LocalServer server, ApiClient retailer, ApiClient analyst, int iterations)
    {
        var log = new CancellationLog();
        var options = new EnclaveOptions { Server = server.Url, Simulated = true, SimulatedAmdDirectory = server.SimAmd, MemoryLimit = "1GB", PollInterval = TimeSpan.FromMilliseconds(20) };
        using var stop = new CancellationTokenSource();
        var host = Task.Run(() => new EnclaveHost(options, log, TimeProvider.System).RunAsync(stop.Token));
        var times = new List<double>(iterations);
        var interrupted = 0;
        try
        {
            for (var i = -2; i < iterations; i++)
            {
                var job = await PartyOperations.RunAsync(analyst, ContractId + "-pairs", new Dictionary<string, string>(), default);
                await WaitForKeysAsync(analyst, job.Id);

                // Let the enclave finish the key release, decryption and loading (milliseconds for these
                // sizes on an idle machine) so that the revocation lands in the query; the report says
                // whether DuckDB was interrupted, and the figure counts those iterations.
                await Task.Delay(1000);
                var cancelled = log.Expect(job.Id);
                await ChangeAsync(retailer, "revoke");
                var revoked = Stopwatch.GetTimestamp();
                var (at, line) = await cancelled.WaitAsync(TimeSpan.FromMinutes(1));
                if (i >= 0)
                {
                    times.Add(Stopwatch.GetElapsedTime(revoked, at).TotalMilliseconds);
                    interrupted += line.Contains("DuckDB query interrupted", StringComparison.Ordinal) ? 1 : 0;
                }

                await ChangeAsync(retailer, "restore");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await host;
        }

        return (times, interrupted);
    }

    private static async Task WaitForKeysAsync(ApiClient api, string jobId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(await api.GetAsync<AuditExport>($"api/contracts/{ContractId}/audit", default)).Entries.Any(e => e.Action == "job.keys_released" && e.Target == "job/" + jobId))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"job {jobId} did not get its keys");
            }

            await Task.Delay(10);
        }
    }

    private static Task<ChangeResult> ChangeAsync(ApiClient retailer, string verb) =>
        retailer.PostAsync<ChangeResult>($"api/contracts/{ContractId}/consent/{verb}", new Change("dataset", "purchases"), default);

    private static async Task CreateContractAsync(LocalServer server, Dictionary<string, PartyKeys> parties)
    {
        var contract = DemoData.Contract(ContractId, parties, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using (var manager = new ApiClient(server.Url, parties["manager"]))
        {
            await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
        }

        foreach (var party in parties.Values)
        {
            using var api = new ApiClient(server.Url, party);
            await PartyOperations.SignContractAsync(api, ContractId, default);
        }

        var data = Directory.CreateDirectory(Path.Combine(server.Root, "data")).FullName;
        var purchases = Path.Combine(data, "purchases.csv");
        var exposures = Path.Combine(data, "exposures.csv");
        await File.WriteAllTextAsync(purchases, "customer_id,category,amount,purchase_date\n" + string.Concat(Enumerable.Repeat("1,toys,1.00,2026-01-01\n", Rows)), Encoding.UTF8);
        await File.WriteAllTextAsync(exposures, "customer_id,campaign,exposure_date\n" + string.Concat(Enumerable.Repeat("1,spring,2026-01-01\n", Rows)), Encoding.UTF8);
        using (var retailer = new ApiClient(server.Url, parties["retailer"]))
        {
            await PartyOperations.PublishDatasetAsync(retailer, ContractId, "purchases", purchases, data, null, default);
        }

        using (var advertiser = new ApiClient(server.Url, parties["advertiser"]))
        {
            await PartyOperations.PublishDatasetAsync(advertiser, ContractId, "exposures", exposures, data, null, default);
            await PartyOperations.ProposeAsync(advertiser, new ComputationDocument
            {
                Id = ContractId + "-pairs",
                ContractId = ContractId,
                ContractHash = contract.Hash(),
                Sql = Sql,
                Privacy = new PrivacySpec("aggregate", 10),
                Recipients = ["advertiser"],
                ProposedBy = "advertiser",
            }, default);
        }

        foreach (var name in new[] { "manager", "retailer", "advertiser" })
        {
            using var api = new ApiClient(server.Url, parties[name]);
            await PartyOperations.VoteAsync(api, ContractId + "-pairs", VoteStatement.Approve, default);
        }
    }

    /// <summary>The enclave host's log: timestamps the line in which it reports a job cancelled.</summary>
    private sealed class CancellationLog : TextWriter
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<(long At, string Line)>> _expected = new(StringComparer.Ordinal);

        public override Encoding Encoding => Encoding.UTF8;

        public Task<(long At, string Line)> Expect(string jobId) =>
            _expected.GetOrAdd(jobId, _ => new TaskCompletionSource<(long, string)>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public override Task WriteLineAsync(string? value)
        {
            var at = Stopwatch.GetTimestamp();
            foreach (var (job, tcs) in _expected)
            {
                if (value is not null && value.Contains($"job {job} cancelled", StringComparison.Ordinal))
                {
                    tcs.TrySetResult((at, value));
                }
            }

            return Task.CompletedTask;
        }
    }
}

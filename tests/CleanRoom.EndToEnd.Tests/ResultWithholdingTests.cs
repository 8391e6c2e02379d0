using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Enclave;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// The server-side backstop of consent: a result reaches recipients only through the server, which
/// re-checks consent in the transaction that would store it. Here the test itself is the attested
/// enclave (simulated evidence, the enclave's own client code, no enclave process competing for the
/// job), so that it can submit a validly signed result after the revocation landed.
/// </summary>
public sealed class ResultWithholdingTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-withhold-").FullName;
    private readonly Dictionary<string, PartyKeys> _parties = [];
    private ChildProcess? _server;
    private Uri _url = null!;

    private string SimAmd => Path.Combine(_root, "sim-amd");

    public async Task InitializeAsync()
    {
        var (code, output) = await Processes.RunAsync(Processes.EnclaveDll, TimeSpan.FromMinutes(2), "sim-hardware", "--dir", SimAmd);
        Assert.True(code == 0, output);
        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            _parties[name] = PartyKeys.Create(name);
        }

        (_server, _url) = await Processes.StartServerAsync(Path.Combine(_root, "server-data"), SimAmd);
    }

    public Task DisposeAsync() => Processes.TearDownAsync(_root, _parties.Values, _server);

    /// <summary>The test plays the attested enclave: the enclave's own client, holding a token for <paramref name="keys"/>.</summary>
    private async Task<EnclaveServerClient> AttestedEnclaveAsync(EnclaveKeys keys)
    {
        var enclave = new EnclaveServerClient(new HttpClient { BaseAddress = _url });
        using var evidence = new SimulatedEvidenceSource(SimulatedAmdPlatform.Load(SimAmd));
        enclave.Token = await new EnclaveAttestation(evidence, enclave, SimulatedAmdPlatform.SimulatedIssuer, TimeProvider.System).AttestAsync(keys, nonce: null, default);
        return enclave;
    }

    [Fact]
    public async Task A_result_submitted_after_consent_was_revoked_is_withheld_and_the_audit_says_why()
    {
        var contract = await LongJob.CreateAsync(_url, _parties, "withhold", _root, rows: 100);
        using var keys = new EnclaveKeys();
        using var enclave = await AttestedEnclaveAsync(keys);

        using var analyst = new ApiClient(_url, _parties["advertiser"]);
        var job = await PartyOperations.RunAsync(analyst, LongJob.ComputationId(contract.Id), new Dictionary<string, string>(), default);
        var ticket = await enclave.ClaimAsync(default);
        Assert.Equal(job.Id, ticket?.JobId);
        await enclave.DatasetKeysAsync(job.Id, default);

        using (var retailer = new ApiClient(_url, _parties["retailer"]))
        {
            await retailer.PostAsync<object>($"api/contracts/{contract.Id}/consent/revoke", new { scope = "dataset", target = "purchases" }, default);
        }

        // A result correctly signed by the attested enclave's key: the only thing wrong is the consent.
        var record = new ResultRecord
        {
            JobId = job.Id,
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
            ComputationId = ticket!.Computation.Id,
            ComputationHash = ticket.Computation.Hash(),
            SqlSha256 = ticket.Computation.SqlSha256(),
            Parameters = ticket.Parameters,
            Datasets = [],
            AttestationToken = enclave.Token!,
            Privacy = new PrivacyOutcome("aggregate", 10, 0),
            JobAuditIndex = ticket.StartedAuditIndex,
            Columns = [],
            RowCount = 0,
            Outputs = [],
            OutputSha256 = Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty),
            IssuedAt = DateTimeOffset.UtcNow,
        };
        var refused = await Assert.ThrowsAsync<JobRefusalException>(() => enclave.SubmitResultAsync(job.Id, Jws.Sign(record, keys.SigningKey, StatementTypes.Result), default));
        Assert.Equal("result.withheld", refused.Code);

        var noResult = await Assert.ThrowsAsync<CliException>(() => analyst.GetAsync<ResultBundle>($"api/jobs/{job.Id}/result", default));
        Assert.Equal("job.no_result", noResult.Code);
        var log = (await analyst.GetAsync<AuditExport>($"api/contracts/{contract.Id}/audit", default)).Entries.Where(e => e.Target == "job/" + job.Id).ToList();
        Assert.Contains(log, e => e.Action == "job.cancelled" && e.ReasonCode == "consent.revoked");
        var withheld = Assert.Single(log, e => e.Action == "job.result_withheld");
        Assert.Equal("result.withheld", withheld.ReasonCode);
        Assert.Contains("cancelled", withheld.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(log, e => e.Action == "job.finished");
    }

    [Fact]
    public async Task An_enclave_calling_about_a_job_it_does_not_hold_is_refused_and_the_audit_names_it()
    {
        var contract = await LongJob.CreateAsync(_url, _parties, "not-held", _root, rows: 100);
        using var holderKeys = new EnclaveKeys();
        using var holder = await AttestedEnclaveAsync(holderKeys);
        using var otherKeys = new EnclaveKeys();
        using var other = await AttestedEnclaveAsync(otherKeys);
        using var analyst = new ApiClient(_url, _parties["advertiser"]);
        var job = await PartyOperations.RunAsync(analyst, LongJob.ComputationId(contract.Id), new Dictionary<string, string>(), default);
        Assert.Equal(job.Id, (await holder.ClaimAsync(default))?.JobId);

        // Another attested enclave asks about the job the first one holds: each call is refused, nothing is released.
        var calls = new Func<Task>[]
        {
            () => other.HeartbeatAsync(job.Id, default, wait: false),
            () => other.DatasetKeysAsync(job.Id, default),
            () => other.CiphertextAsync(job.Id, "purchases", default),
            () => other.SubmitResultAsync(job.Id, "not.a.result", default),
            () => other.ReportFailureAsync(job.Id, new JobFailureReport("probe", "probe", "failed"), default),
        };
        foreach (var call in calls)
        {
            Assert.Equal("job.not_claimed", (await Assert.ThrowsAsync<JobRefusalException>(call)).Code);
        }

        Assert.Equal("job.not_found", (await Assert.ThrowsAsync<JobRefusalException>(() => other.HeartbeatAsync("job-0000000000000000", default, wait: false))).Code);

        // The holder, once consent is revoked, may no longer download the data of the job it holds.
        using (var retailer = new ApiClient(_url, _parties["retailer"]))
        {
            await retailer.PostAsync<object>($"api/contracts/{contract.Id}/consent/revoke", new { scope = "dataset", target = "purchases" }, default);
        }

        Assert.Equal("job.not_running", (await Assert.ThrowsAsync<JobRefusalException>(() => holder.CiphertextAsync(job.Id, "purchases", default))).Code);

        var log = (await analyst.GetAsync<AuditExport>($"api/contracts/{contract.Id}/audit", default)).Entries;
        var started = Assert.Single(log, e => e.Action == "job.started" && e.Target == "job/" + job.Id);
        var refused = log.Where(e => e.Action == "enclave.refused").ToList();
        Assert.All(refused, e => Assert.Equal("refused", e.Outcome));
        var byOther = refused.Where(e => e.Target == "job/" + job.Id && e.ReasonCode == "job.not_claimed").ToList();
        Assert.Equal(calls.Length, byOther.Count);
        Assert.All(byOther, e => Assert.True(e.Actor.StartsWith("enclave:", StringComparison.Ordinal) && e.Actor != started.Actor, e.Actor));
        Assert.Single(refused, e => e.Target == "job/job-0000000000000000" && e.ReasonCode == "job.not_found" && e.Actor == byOther[0].Actor);
        Assert.Single(refused, e => e.Target == "job/" + job.Id && e.ReasonCode == "job.not_running" && e.Actor == started.Actor);
    }

    [Fact]
    public async Task The_enclave_checks_consent_before_releasing_a_result_and_withholds_it_when_revoked_or_when_the_server_is_unreachable()
    {
        var contract = await LongJob.CreateAsync(_url, _parties, "precheck", _root, rows: 100);
        using var keys = new EnclaveKeys();
        using var enclave = await AttestedEnclaveAsync(keys);
        using var analyst = new ApiClient(_url, _parties["advertiser"]);

        // Consent in place: the check passes (and answers without long-polling).
        var kept = await PartyOperations.RunAsync(analyst, LongJob.ComputationId(contract.Id), new Dictionary<string, string>(), default);
        Assert.Equal(kept.Id, (await enclave.ClaimAsync(default))?.JobId);
        await enclave.ConfirmStillRunningAsync(kept.Id, default);

        // Revoked after the result was computed: the enclave withholds it with the server's reason.
        using (var retailer = new ApiClient(_url, _parties["retailer"]))
        {
            await retailer.PostAsync<object>($"api/contracts/{contract.Id}/consent/revoke", new { scope = "dataset", target = "purchases" }, default);
        }

        var withheld = await Assert.ThrowsAsync<ResultWithheldException>(() => enclave.ConfirmStillRunningAsync(kept.Id, default));
        Assert.Equal("consent.revoked", withheld.Code);

        // Server unreachable: the check never passes; it keeps retrying until the job is given up.
        _server!.Dispose(); // stops the server process
        _server = null;
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => enclave.ConfirmStillRunningAsync(kept.Id, giveUp.Token));
    }
}

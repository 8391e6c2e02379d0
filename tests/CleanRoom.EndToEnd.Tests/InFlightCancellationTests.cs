using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// A revocation or a termination that lands while the enclave runs a job: the server cancels the job
/// in the same transaction, the enclave's long-polled heartbeat wakes, DuckDB is interrupted, the
/// enclave reports the interruption, and no result is ever stored. The job is kept in flight by real
/// work (<see cref="LongJob"/>), and every wait polls state.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class InFlightCancellationTests(CleanRoomFixture f)
{
    // Rows per dataset: 200 000² / 12 pairs, far longer than any test waits for.
    private const int Rows = 200_000;

    private sealed record Change(string Scope, string Target);

    private sealed record ChangeResult(string Scope, string Target, string State, bool Changed, IReadOnlyList<string> CancelledJobs);

    [Fact]
    public async Task Revoking_consent_while_a_job_runs_interrupts_it_and_withholds_the_result()
    {
        var (id, job) = await StartLongJobAsync("revoke-inflight");
        using (var retailer = f.Api("retailer"))
        {
            var revoked = await retailer.PostAsync<ChangeResult>($"api/contracts/{id}/consent/revoke", new Change("dataset", "purchases"), default);
            Assert.Contains(job.Id, revoked.CancelledJobs);
        }

        await AssertInterruptedAsync(id, job.Id, "consent.revoked", e => e.Action == "consent.revoked" && e.Actor == "retailer" && e.Target == $"consent/{id}/dataset/purchases");
    }

    [Fact]
    public async Task Terminating_the_contract_while_a_job_runs_interrupts_it_and_withholds_the_result()
    {
        var (id, job) = await StartLongJobAsync("terminate-inflight");
        using (var manager = f.Api("manager"))
        {
            var terminated = await PartyOperations.TerminateContractAsync(manager, id, "end of campaign", default);
            Assert.Equal("terminated", terminated.State);
            Assert.Contains(job.Id, terminated.CancelledJobs);
            Assert.Equal("terminated", (await manager.GetAsync<ContractView>($"api/contracts/{id}", default)).State);
        }

        await AssertInterruptedAsync(id, job.Id, "contract.terminated", e => e.Action == "contract.terminated" && e.Actor == "manager" && e.Outcome == "ok");

        // Terminated for good: no new run, and no key release for the cancelled job.
        using var analyst = f.Api("advertiser");
        var run = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(analyst, LongJob.ComputationId(id), new Dictionary<string, string>(), default));
        Assert.Equal("contract.not_active", run.Code);
    }

    /// <summary>
    /// SECURITY.md: a veto cast after an approval is enforced by the server as a revocation or a termination is (it
    /// cancels, refuses key releases and withholds results). The veto turned the computation to rejected but left its
    /// running job running: the enclave kept computing on the decrypted data until it tried to submit.
    /// </summary>
    [Fact]
    public async Task Vetoing_an_approved_computation_while_a_job_runs_interrupts_it_and_withholds_the_result()
    {
        var (id, job) = await StartLongJobAsync("veto-inflight");
        using (var retailer = f.Api("retailer"))
        {
            var (_, ack) = await PartyOperations.VoteAsync(retailer, LongJob.ComputationId(id), VoteStatement.Reject, default);
            Assert.Equal("rejected", ack.State);
        }

        await AssertInterruptedAsync(id, job.Id, "computation.rejected", e => e.Action == "computation.rejected" && e.Actor == "retailer" && e.Target == "computation/" + LongJob.ComputationId(id));
    }

    private async Task<(string ContractId, JobView Job)> StartLongJobAsync(string prefix)
    {
        var id = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        await LongJob.CreateAsync(f.Server, f.Parties, id, f.Root, Rows);
        using var analyst = f.Api("advertiser");
        var job = await PartyOperations.RunAsync(analyst, LongJob.ComputationId(id), new Dictionary<string, string>(), default);
        var inFlight = await LongJob.WaitUntilInFlightAsync(analyst, id, job.Id, TimeSpan.FromMinutes(3));
        Assert.Equal("running", inFlight.State);
        return (id, job);
    }

    private async Task AssertInterruptedAsync(string contractId, string jobId, string reasonCode, Func<AuditEntry, bool> cause)
    {
        using var analyst = f.Api("advertiser");

        // The enclave's report of the interruption is the last step of the cancellation path.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        IReadOnlyList<AuditEntry> log;
        while (!(log = (await analyst.GetAsync<AuditExport>($"api/contracts/{contractId}/audit", default)).Entries).Any(e => e.Action == "job.interrupted" && e.Target == "job/" + jobId))
        {
            Assert.True(DateTime.UtcNow < deadline, "the enclave did not report the interruption; enclave output:\n" + f.EnclaveOutput);
            await Task.Delay(50);
        }

        var job = await analyst.GetAsync<JobView>($"api/jobs/{jobId}", default);
        Assert.Equal("cancelled", job.State);
        Assert.Equal(reasonCode, job.ReasonCode);

        var noResult = await Assert.ThrowsAsync<CliException>(() => analyst.GetAsync<ResultBundle>($"api/jobs/{jobId}/result", default));
        Assert.Equal("job.no_result", noResult.Code);

        // The audit log tells the whole story: the cause, the server's cancellation, the enclave's interruption; never a result.
        var target = "job/" + jobId;
        Assert.Contains(log, e => cause(e));
        Assert.Contains(log, e => e.Action == "job.cancelled" && e.Target == target && e.Actor == "server" && e.ReasonCode == reasonCode);
        var interrupted = Assert.Single(log, e => e.Action == "job.interrupted" && e.Target == target);
        Assert.StartsWith("enclave:", interrupted.Actor, StringComparison.Ordinal);
        Assert.Equal(reasonCode, interrupted.ReasonCode);
        Assert.Contains("no result released", interrupted.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(log, e => e.Target == target && e.Action == "job.finished");
    }
}

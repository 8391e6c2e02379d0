using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

[Collection(CleanRoomCollection.Name)]
public sealed class AuditInclusionTests(CleanRoomFixture f)
{
    private static AttestationPolicy SimulatedPolicy() => AttestationPolicy.Load(Path.Combine(Processes.Policies, "simulated.json")).Policy!;

    private async Task<ResultBundle> RunAndFetchAsync()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.True(job.State == "finished", $"job {job.State}: {job.Reason}\n{f.EnclaveOutput}");
        using var api = f.Api("advertiser");
        return await api.GetAsync<ResultBundle>($"api/jobs/{job.Id}/result", default);
    }

    private static VerificationCheck Inclusion(ResultBundle bundle, string? pinnedKey = null) =>
        ResultVerifier.Verify(bundle, SimulatedPolicy(), DateTimeOffset.UtcNow, pinnedKey).Checks.Single(c => c.Name == "audit inclusion");

    [Fact]
    public async Task A_result_bundle_proves_its_job_is_in_the_audit_log_under_the_pinned_server_key()
    {
        var bundle = await RunAndFetchAsync();
        using var api = f.Api("advertiser");
        var server = await api.GetAsync<ServerInfo>("api/server", default);

        var check = Inclusion(bundle, server.ServerKey);
        Assert.True(check.Passed, check.Detail);
        Assert.Equal(bundle.AuditIndex, bundle.AuditReceipt!.Entry.Seq);

        Assert.False(Inclusion(bundle, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").Passed);
    }

    [Fact]
    public async Task A_result_replayed_under_another_job_or_with_a_tampered_proof_fails_audit_inclusion()
    {
        var first = await RunAndFetchAsync();
        var second = await RunAndFetchAsync();

        var replayed = first with { AuditIndex = second.AuditIndex, AuditReceipt = second.AuditReceipt };
        var check = Inclusion(replayed);
        Assert.False(check.Passed);
        Assert.Contains("another job", check.Detail);

        var proof = first.AuditReceipt!.Proof;
        var tampered = first with { AuditReceipt = first.AuditReceipt with { Proof = proof with { Hashes = [new string('0', 64), .. proof.Hashes.Skip(1)] } } };
        Assert.False(Inclusion(tampered).Passed);

        var missing = first with { AuditReceipt = null };
        var verification = ResultVerifier.Verify(missing, SimulatedPolicy(), DateTimeOffset.UtcNow, recipient: f.Parties["advertiser"]);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "audit inclusion" && !c.Passed);
        Assert.Contains(verification.Checks, c => c.Name == "output" && c.Passed);
    }

    [Fact]
    public async Task The_server_serves_checkpoints_and_proofs_that_verify()
    {
        using var api = f.Api("manager");
        var saved = await api.GetAsync<SignedAuditCheckpoint>($"api/contracts/{f.Contract.Id}/audit/checkpoint", default);
        var savedSize = AuditVerifier.VerifyCheckpoint(saved).Checkpoint!.Size;
        await RunAndFetchAsync();
        var current = await api.GetAsync<SignedAuditCheckpoint>($"api/contracts/{f.Contract.Id}/audit/checkpoint", default);
        var size = AuditVerifier.VerifyCheckpoint(current).Checkpoint!.Size;
        var proof = await api.GetAsync<AuditConsistencyProof>($"api/contracts/{f.Contract.Id}/audit/consistency?from={savedSize}&to={size}", default);
        Assert.True(AuditVerifier.VerifyConsistency(saved, current, proof).IsValid);
        Assert.True(AuditVerifier.VerifyExtends(await f.AuditAsync(), saved).IsValid);

        var inclusion = await api.GetAsync<AuditInclusionProof>($"api/contracts/{f.Contract.Id}/audit/inclusion?index=0&size={size}", default);
        Assert.Equal(size, inclusion.TreeSize);
    }
}

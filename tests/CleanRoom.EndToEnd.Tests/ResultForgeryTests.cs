using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using NSec.Cryptography;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Forged results: every one must fail `result verify` on the check that names the forgery.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class ResultForgeryTests(CleanRoomFixture f)
{
    private static AttestationPolicy SimulatedPolicy() => AttestationPolicy.Load(Path.Combine(Processes.Policies, "simulated.json")).Policy!;

    private async Task<ResultBundle> RunAndFetchAsync()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        using var api = f.Api("advertiser");
        return await api.GetAsync<ResultBundle>($"api/jobs/{job.Id}/result", default);
    }

    private ResultVerification Verify(ResultBundle bundle) =>
        ResultVerifier.Verify(bundle, SimulatedPolicy(), DateTimeOffset.UtcNow, null, f.Parties["advertiser"]);

    [Fact]
    public async Task A_signature_swapped_in_from_another_result_fails()
    {
        var first = await RunAndFetchAsync();
        var second = await RunAndFetchAsync();
        Assert.True(Verify(first).IsValid);
        var parts = first.ResultJws.Split('.');
        var swapped = first with { ResultJws = parts[0] + "." + parts[1] + "." + second.ResultJws.Split('.')[2] };
        var verification = Verify(swapped);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "result signature" && !c.Passed);
    }

    [Fact]
    public async Task A_result_signed_by_a_key_other_than_the_one_its_attestation_token_binds_fails()
    {
        var genuine = await RunAndFetchAsync();
        Assert.True(Jws.TryDecode(genuine.ResultJws, out var decoded, out _));
        var record = decoded!.PayloadAs<ResultRecord>()!;

        // Someone who is not the attested enclave re-signs the record (here with its privacy outcome
        // altered), keeping the genuine enclave's attestation token.
        using var impostor = Key.Create(SignatureAlgorithm.Ed25519);
        var forged = record with { Privacy = record.Privacy with { SuppressedGroups = 0 } };
        var bundle = genuine with { ResultJws = Jws.Sign(forged, impostor, StatementTypes.Result) };

        var verification = Verify(bundle);
        Assert.False(verification.IsValid);
        var signature = Assert.Single(verification.Checks, c => c.Name == "result signature");
        Assert.False(signature.Passed);
        Assert.Contains(verification.Checks, c => c.Name == "attestation token" && c.Passed);
    }

    [Fact]
    public async Task The_record_names_the_jobs_audit_index_and_the_budget_charged()
    {
        var bundle = await RunAndFetchAsync();
        Assert.True(Jws.TryDecode(bundle.ResultJws, out var decoded, out _));
        var record = decoded!.PayloadAs<ResultRecord>()!;
        Assert.Equal(0m, record.Privacy.EpsilonCharged);
        Assert.Equal("aggregate", record.Privacy.Mode);
        var started = (await f.AuditAsync()).Entries[(int)record.JobAuditIndex];
        Assert.Equal("job.started", started.Action);
        Assert.Equal("job/" + record.JobId, started.Target);
        Assert.True(bundle.AuditIndex > record.JobAuditIndex);
    }
}

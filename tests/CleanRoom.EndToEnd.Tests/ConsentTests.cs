using CleanRoom.Cli;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Consent revocation against the real server and enclave: it takes effect at once, is audited and can be restored.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class ConsentTests(CleanRoomFixture f)
{
    private sealed record Change(string Scope, string Target);

    private sealed record ChangeResult(string Scope, string Target, string State, bool Changed, IReadOnlyList<string> CancelledJobs);

    private async Task<ChangeResult> ChangeAsync(string party, string verb, string scope, string target)
    {
        using var api = f.Api(party);
        return await api.PostAsync<ChangeResult>($"api/contracts/{f.Contract.Id}/consent/{verb}", new Change(scope, target), default);
    }

    [Fact]
    public async Task A_revoked_dataset_refuses_new_runs_until_its_owner_restores_consent()
    {
        var revoked = await ChangeAsync("retailer", "revoke", "dataset", "purchases");
        try
        {
            Assert.True(revoked.Changed);
            using var analyst = f.Api("advertiser");
            var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(analyst, CleanRoomFixture.ComputationId, new Dictionary<string, string>(), default));
            Assert.Equal("consent.revoked", ex.Code);
            Assert.Contains("retailer", ex.Message, StringComparison.Ordinal);
            var log = (await f.AuditAsync()).Entries;
            Assert.Contains(log, e => e.Action == "consent.revoked" && e.Actor == "retailer" && e.Outcome == "ok");
            Assert.Contains(log, e => e.Action == "job.queued" && e.ReasonCode == "consent.revoked");
        }
        finally
        {
            await ChangeAsync("retailer", "restore", "dataset", "purchases");
        }

        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.Action == "consent.restored" && e.Actor == "retailer");
    }

    [Fact]
    public async Task Only_the_owner_can_revoke_consent_for_its_dataset()
    {
        var notOwner = await Assert.ThrowsAsync<CliException>(() => ChangeAsync("advertiser", "revoke", "dataset", "purchases"));
        Assert.Equal("auth.not_owner", notOwner.Code);
        var notProvider = await Assert.ThrowsAsync<CliException>(() => ChangeAsync("manager", "revoke", "contract", f.Contract.Id));
        Assert.Equal("auth.role_required", notProvider.Code);
        var badScope = await Assert.ThrowsAsync<CliException>(() => ChangeAsync("retailer", "revoke", "everything", "x"));
        Assert.Equal("consent.bad_scope", badScope.Code);
    }

    [Theory]
    [InlineData("dataset", "x\nforged\u202Ey")]
    [InlineData("x\nforged", "purchases")]
    public async Task A_consent_scope_or_target_that_is_not_a_name_is_refused_and_never_echoed(string scope, string target)
    {
        var before = (await f.AuditAsync()).Entries.Count;
        var refused = await Assert.ThrowsAsync<CliException>(() => ChangeAsync("retailer", "revoke", scope, target));
        Assert.Equal("consent.bad_scope", refused.Code);
        Assert.DoesNotContain("forged", refused.Message, StringComparison.Ordinal);
        var entries = (await f.AuditAsync()).Entries.Skip(before).ToList();
        Assert.Contains(entries, e => e.ReasonCode == "consent.bad_scope" && e.Actor == "retailer");
        Assert.DoesNotContain(entries, e => CleanRoomFixture.Mentions(e, "forged"));
    }

    [Fact]
    public async Task Revoking_the_whole_contract_blocks_every_computation()
    {
        await ChangeAsync("advertiser", "revoke", "contract", f.Contract.Id);
        try
        {
            using var analyst = f.Api("advertiser");
            var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(analyst, CleanRoomFixture.ComputationId, new Dictionary<string, string>(), default));
            Assert.Equal("consent.revoked", ex.Code);
        }
        finally
        {
            await ChangeAsync("advertiser", "restore", "contract", f.Contract.Id);
        }
    }

    [Fact]
    public async Task Consent_list_shows_any_party_the_withdrawals_in_force()
    {
        var id = "consent-list-" + Guid.NewGuid().ToString("N")[..6];
        await LongJob.CreateAsync(f.Server, f.Parties, id, f.Root, rows: 100);
        var dir = Directory.CreateTempSubdirectory("cleanroom-consentlist-").FullName;
        Task<(int ExitCode, string Output)> CliAsync(params string[] args) =>
            Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), ["--server", f.Server.ToString(), "--keys", dir, .. args]);
        try
        {
            f.Parties["retailer"].Save(dir);
            f.Parties["advertiser"].Save(dir);
            var (code, output) = await CliAsync("consent", "list", "--contract", id, "--as", "advertiser");
            Assert.True(code == 0, output);
            Assert.Contains($"no consent is withdrawn in contract '{id}'", output, StringComparison.Ordinal);

            (code, output) = await CliAsync("consent", "revoke", "--contract", id, "--dataset", "purchases", "--as", "retailer");
            Assert.True(code == 0, output);
            (code, output) = await CliAsync("consent", "list", "--contract", id, "--as", "advertiser");
            Assert.True(code == 0, output);
            Assert.Contains("withdrawn: dataset 'purchases' by retailer at ", output, StringComparison.Ordinal);

            (code, output) = await CliAsync("consent", "restore", "--contract", id, "--dataset", "purchases", "--as", "retailer");
            Assert.True(code == 0, output);
            (code, output) = await CliAsync("consent", "list", "--contract", id, "--as", "advertiser");
            Assert.Contains("no consent is withdrawn", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

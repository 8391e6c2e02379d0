using System.Text;
using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// "Every refusal is written to the audit log" (SECURITY.md), including the ones found inside a write transaction (whose
/// entry must commit although the action does not) and a body that does not parse.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class RefusalAuditTests(CleanRoomFixture f)
{
    private async Task AssertAuditedAsync(Func<Task> action, string code, string actor, string auditAction, string target)
    {
        var ex = await Assert.ThrowsAsync<CliException>(action);
        Assert.Equal(code, ex.Code);
        var log = await f.AuditAsync();
        Assert.Contains(log.Entries, e => e.Actor == actor && e.Action == auditAction && e.Target == target && e.Outcome == "refused" && e.ReasonCode == code);
    }

    [Fact]
    public async Task Drafting_or_proposing_under_an_id_that_exists_is_refused_and_audited()
    {
        using var manager = f.Api("manager");
        await AssertAuditedAsync(
            () => PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(f.Contract, CanonicalJson.SerializerOptions), default),
            "contract.exists", "manager", "contract.drafted", "contract/" + f.Contract.Id);

        using var advertiser = f.Api("advertiser");
        await AssertAuditedAsync(
            () => PartyOperations.ProposeAsync(advertiser, f.Computation(CleanRoomFixture.ComputationId, DemoData.ConversionsSql), default),
            "computation.exists", "advertiser", "computation.proposed", "computation/" + CleanRoomFixture.ComputationId);
    }

    [Theory]
    [InlineData("manager", null)]
    [InlineData("manager", "not-installed")]
    [InlineData("retailer", null)]
    public async Task A_stranger_who_drafts_under_an_existing_id_is_not_audited_under_a_partys_name(string impersonated, string? policy)
    {
        // Mallory is no party of the contract. She signs a document of her own under its id in which she holds a real
        // party's name (with an uninstalled policy, or as the retailer, who may not draft, so that a later check would
        // refuse it): no entry in that contract's trail may put her action in that party's name. She is refused as no
        // party of the contract that exists.
        var mallory = f.Parties["mallory"];
        var forged = f.Contract with
        {
            Parties = [.. f.Contract.Parties.Select(p => p.Name == impersonated ? p with { SigningKey = mallory.Identity.SigningKey, EncryptionKey = mallory.Identity.EncryptionKey } : p)],
            AttestationPolicy = policy ?? f.Contract.AttestationPolicy,
        };
        var before = (await f.AuditAsync()).Entries.Count;
        using var api = new ApiClient(f.Server, mallory);
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.DraftContractAsync(api, JsonSerializer.SerializeToUtf8Bytes(forged, CanonicalJson.SerializerOptions), default));
        Assert.Equal("auth.not_a_party", ex.Code);

        var entries = (await f.AuditAsync()).Entries.Skip(before).ToList();
        Assert.DoesNotContain(entries, e => e.Actor == impersonated);
        Assert.Contains(entries, e => e.Actor == "key:" + mallory.Id[..12] && e.Target == "contract/" + f.Contract.Id && e.ReasonCode == "auth.not_a_party");
    }

    [Fact]
    public async Task A_party_who_drafts_under_an_existing_id_is_refused_as_existing_in_its_own_name()
    {
        using var retailer = f.Api("retailer");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.DraftContractAsync(retailer, JsonSerializer.SerializeToUtf8Bytes(f.Contract, CanonicalJson.SerializerOptions), default));

        Assert.Equal("contract.exists", ex.Code);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.Actor == "retailer" && e.Action == "contract.drafted" && e.Target == "contract/" + f.Contract.Id && e.ReasonCode == "contract.exists");
    }

    [Fact]
    public async Task Refusals_made_before_the_request_is_authenticated_are_audited_too()
    {
        // SECURITY.md: every refusal is audited, request.too_large being the one exception.
        using var http = new HttpClient { BaseAddress = f.Server };
        var target = $"dataset/{f.Contract.Id}/purchases";
        using (var publish = new HttpRequestMessage(HttpMethod.Put, $"api/contracts/{f.Contract.Id}/datasets/purchases/ciphertext") { Content = new ByteArrayContent([1, 2, 3]) })
        {
            publish.Headers.Add(RequestSignature.ContentSha256Header, "not-a-digest");
            using var response = await http.SendAsync(publish);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var response = await http.PostAsync("attest/SevSnpVm?api-version=1999-01-01", new ByteArrayContent([])))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var response = await http.PostAsync("keys/some-key/1/release?api-version=1.0", new ByteArrayContent([])))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        }

        var log = await f.AuditAsync();
        Assert.Contains(log.Entries, e => e.Action == "dataset.published" && e.Target == target && e.Outcome == "refused" && e.ReasonCode == "dataset.bad_digest");
        Assert.Contains(log.Entries, e => e.Action == "attestation.refused" && e.Outcome == "refused" && e.ReasonCode == "attest.api_version");
        Assert.Contains(log.Entries, e => e.Action == "key.release" && e.Target == "key/some-key" && e.Outcome == "refused" && e.ReasonCode == "release.api_version");
    }

    [Fact]
    public async Task A_vote_that_does_not_parse_or_comes_after_a_veto_is_refused_and_audited()
    {
        const string id = "vetoed-audit";
        using (var advertiser = f.Api("advertiser"))
        {
            await PartyOperations.ProposeAsync(advertiser, f.Computation(id, "SELECT e.campaign, count(*) AS n FROM exposures AS e GROUP BY e.campaign"), default);
        }

        using var manager = f.Api("manager");
        await AssertAuditedAsync(
            () => manager.PostRawAsync<JsonAck>($"api/computations/{id}/votes", Encoding.UTF8.GetBytes("{\"jws\":"), default),
            "request.malformed", "manager", "computation.voted", "computation/" + id);

        await PartyOperations.VoteAsync(manager, id, VoteStatement.Reject, default);
        using var owner = f.Api("advertiser");
        await AssertAuditedAsync(
            () => PartyOperations.VoteAsync(owner, id, VoteStatement.Approve, default),
            "computation.rejected", "advertiser", "computation.voted", "computation/" + id);
    }

    [Fact]
    public async Task A_run_over_an_unpublished_dataset_is_refused_and_audited()
    {
        var contract = CleanRoomFixture.TestContract("unpublished-audit", f.Parties);
        using (var manager = f.Api("manager"))
        {
            await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
        }

        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            using var api = f.Api(name);
            await PartyOperations.SignContractAsync(api, contract.Id, default);
        }

        var computation = f.Computation("unpublished-count", "SELECT e.campaign, count(*) AS n FROM exposures AS e GROUP BY e.campaign") with
        {
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
        };
        using var analyst = f.Api("advertiser");
        await PartyOperations.ProposeAsync(analyst, computation, default);
        foreach (var name in new[] { "manager", "advertiser" })
        {
            using var api = f.Api(name);
            await PartyOperations.VoteAsync(api, computation.Id, VoteStatement.Approve, default);
        }

        // Refused inside the transaction that would queue the job: no job, but the entry commits.
        await AssertAuditedAsync(
            () => PartyOperations.RunAsync(analyst, computation.Id, new Dictionary<string, string>(), default),
            "dataset.not_published", "advertiser", "job.queued", "computation/" + computation.Id);
    }

    [Fact]
    public async Task Fetching_the_result_of_a_job_that_has_none_is_refused_and_audited()
    {
        // A job the enclave refuses (a k below the contract's minimum cannot be proposed, so take a job the analyst never
        // signed: the operator queues it by hand).
        var first = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(f.ServerData, "cleanroom.db")}"))
        {
            c.Open();
            using var insert = c.CreateCommand();
            insert.CommandText = """
                INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at)
                SELECT 'job-noresult00000001', contract_id, computation_id, parameters, requested_by, 'queued', created_at, created_at FROM jobs WHERE id = $id
                """;
            insert.Parameters.AddWithValue("$id", first.Id);
            Assert.Equal(1, insert.ExecuteNonQuery());
        }

        using var analyst = f.Api("advertiser");
        var refused = await PartyOperations.WaitAsync(analyst, "job-noresult00000001", TimeSpan.FromMinutes(3), default);
        Assert.Equal("refused", refused.State);

        await AssertAuditedAsync(
            () => analyst.GetAsync<ResultBundle>("api/jobs/job-noresult00000001/result", default),
            "job.no_result", "advertiser", "result.fetched", "job/job-noresult00000001");
    }
}

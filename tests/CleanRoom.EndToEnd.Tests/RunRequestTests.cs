using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Microsoft.Data.Sqlite;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// Parameter values are the analyst's signed word: the server forwards the analyst's signed run request in the job ticket
/// and the real enclave checks it. The operator's tampering is played by SQLite triggers in the server's own database, which
/// act inside the server's transaction that queues the job, before the enclave can claim it.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class RunRequestTests(CleanRoomFixture f)
{
    private const string ParameterSql = "SELECT e.campaign, count(*) AS exposures FROM exposures AS e WHERE e.campaign = $campaign GROUP BY e.campaign";

    private string Database => Path.Combine(f.ServerData, "cleanroom.db");

    private async Task<string> ProposeAndApproveAsync(string id)
    {
        var computation = f.Computation(id, ParameterSql) with
        {
            Parameters = [new ParameterDeclaration("campaign", "VARCHAR", ["summer-sale", "new-year"])],
        };
        using (var advertiser = f.Api("advertiser"))
        {
            await PartyOperations.ProposeAsync(advertiser, computation, default);
        }

        foreach (var name in new[] { "manager", "advertiser" })
        {
            using var api = f.Api(name);
            await PartyOperations.VoteAsync(api, id, VoteStatement.Approve, default);
        }

        return id;
    }

    private async Task<JobView> RunAsync(string computationId, string campaign)
    {
        using var api = f.Api("advertiser");
        var job = await PartyOperations.RunAsync(api, computationId, new Dictionary<string, string> { ["campaign"] = campaign }, default);
        return await PartyOperations.WaitAsync(api, job.Id, TimeSpan.FromMinutes(3), default);
    }

    private void Execute(string statement)
    {
        using var c = new SqliteConnection($"Data Source={Database}");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = statement;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public async Task The_enclave_runs_with_the_values_the_analyst_signed_and_the_job_id_they_derive()
    {
        var id = await ProposeAndApproveAsync("param-signed");

        var job = await RunAsync(id, "new-year");

        Assert.True(job.State == "finished", $"job {job.State}: {job.Reason}\n{f.EnclaveOutput}");
        var record = (await f.VerifiedResultAsync(job.Id)).Record!;
        Assert.Equal(new Dictionary<string, string> { ["campaign"] = "new-year" }, record.Parameters);
        // The id is the one the signed request derives (key id and nonce), which the enclave checked.
        using var c = new SqliteConnection($"Data Source={Database};Mode=ReadOnly");
        c.Open();
        using var read = c.CreateCommand();
        read.CommandText = "SELECT run_request FROM jobs WHERE id = $id";
        read.Parameters.AddWithValue("$id", job.Id);
        var request = System.Text.Json.JsonSerializer.Deserialize<SignedRunRequest>((string)read.ExecuteScalar()!, CanonicalJson.SerializerOptions)!;
        Assert.Equal(RunRequestVerifier.JobId(request.KeyId, request.Nonce), job.Id);
        Assert.Equal(RunRequestVerifier.PathFor(id), request.PathAndQuery);
    }

    [Fact]
    public async Task Parameter_values_the_operator_swapped_in_are_refused_by_the_enclave_and_audited()
    {
        var id = await ProposeAndApproveAsync("param-swapped");
        // Inside the approved domain, so only the signature can tell.
        Execute($$"""
            CREATE TRIGGER swap_parameters AFTER INSERT ON jobs WHEN NEW.computation_id = '{{id}}'
            BEGIN UPDATE jobs SET parameters = '{"campaign":"summer-sale"}' WHERE id = NEW.id; END;
            """);
        try
        {
            var job = await RunAsync(id, "new-year");

            Assert.Equal("refused", job.State);
            Assert.Equal("job.unsigned_request", job.ReasonCode);
            Assert.Contains("are not the ones 'advertiser' signed", job.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("summer-sale", job.Reason, StringComparison.Ordinal);
            Assert.Contains((await f.AuditAsync()).Entries, e => e.Target == "job/" + job.Id && e.Action == "job.refused" && e.ReasonCode == "job.unsigned_request");
        }
        finally
        {
            Execute("DROP TRIGGER IF EXISTS swap_parameters;");
        }
    }

    [Fact]
    public async Task A_job_the_operator_queued_or_replayed_without_a_fresh_signed_request_is_refused()
    {
        var id = await ProposeAndApproveAsync("param-replayed");
        var first = await RunAsync(id, "new-year");
        Assert.Equal("finished", first.State);

        // The operator copies the finished job's signed request into a job of its own under a fresh id, and queues one
        // more with no request at all.
        Execute($$"""
            INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at, run_request)
            SELECT 'job-replayed00000001', contract_id, computation_id, parameters, requested_by, 'queued', created_at, created_at, run_request FROM jobs WHERE id = '{{first.Id}}';
            INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at)
            SELECT 'job-unsigned00000001', contract_id, computation_id, parameters, requested_by, 'queued', created_at, created_at FROM jobs WHERE id = '{{first.Id}}';
            """);

        using var api = f.Api("advertiser");
        var replayed = await PartyOperations.WaitAsync(api, "job-replayed00000001", TimeSpan.FromMinutes(3), default);
        var unsigned = await PartyOperations.WaitAsync(api, "job-unsigned00000001", TimeSpan.FromMinutes(3), default);

        Assert.Equal("refused", replayed.State);
        Assert.Equal("job.unsigned_request", replayed.ReasonCode);
        Assert.Contains("is not the job its run request derives", replayed.Reason, StringComparison.Ordinal);
        Assert.Equal("refused", unsigned.State);
        Assert.Equal("job.unsigned_request", unsigned.ReasonCode);
        Assert.Contains("carries no signed run request", unsigned.Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// Bodies the enclave could not check, or that name another computation, are refused when queued (and audited). HASH is
    /// the computation's own hash, OTHER the hash of the fixture's main computation; a body is sent as Latin-1, so \xff is
    /// the single byte 0xFF (not UTF-8).
    /// </summary>
    [Theory]
    [InlineData("query", "?x=1", """{"computationHash":"HASH","parameters":{"campaign":"new-year"}}""", 400, "job.bad_request")]
    [InlineData("twice", "", """{"computationHash":"HASH","parameters":{"campaign":"summer-sale"},"parameters":{"campaign":"new-year"}}""", 400, "request.malformed")]
    [InlineData("extra", "", """{"computationHash":"HASH","parameters":{"campaign":"new-year"},"note":"x"}""", 400, "request.malformed")]
    [InlineData("no-hash", "", """{"parameters":{"campaign":"new-year"}}""", 400, "request.malformed")]
    [InlineData("surrogate-value", "", """{"computationHash":"HASH","parameters":{"campaign":"\ud800"}}""", 400, "request.malformed")]
    [InlineData("surrogate-name", "", """{"computationHash":"HASH","parameters":{"\udc00":"new-year"}}""", 400, "request.malformed")]
    [InlineData("not-utf8", "", "{\"computationHash\":\"HASH\",\"parameters\":{\"campaign\":\"new-year\xff\"}}", 400, "request.malformed")]
    [InlineData("other", "", """{"computationHash":"OTHER","parameters":{"campaign":"new-year"}}""", 409, "job.wrong_computation")]
    public async Task A_run_request_the_enclave_could_not_check_or_for_another_computation_is_refused_when_queued(string name, string query, string body, int status, string code)
    {
        var id = await ProposeAndApproveAsync("param-unclear-" + name);
        string hash, other;
        using (var analyst = f.Api("advertiser"))
        {
            hash = (await analyst.GetAsync<ComputationView>($"api/computations/{id}", default)).Computation.Hash();
            other = (await analyst.GetAsync<ComputationView>($"api/computations/{CleanRoomFixture.ComputationId}", default)).Computation.Hash();
        }

        var bytes = System.Text.Encoding.Latin1.GetBytes(body.Replace("HASH", hash, StringComparison.Ordinal).Replace("OTHER", other, StringComparison.Ordinal));
        using var request = RequestAuthenticationTests.Signed(f.Parties["advertiser"], HttpMethod.Post, $"api/computations/{id}/jobs{query}", bytes);
        var (sent, refused) = await RequestAuthenticationTests.SendAsync(f.Server, request);

        Assert.Equal(code, refused);
        Assert.Equal(status, (int)sent);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.Target == "computation/" + id && e.Action == "job.queued" && e.Outcome == "refused" && e.ReasonCode == code);
    }
}

using System.Text;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Core.Tests;

public sealed class RunRequestVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private readonly TestParties _p = new();

    private ComputationDocument Computation => new()
    {
        Id = "comp1",
        ContractId = _p.Contract.Id,
        ContractHash = _p.Contract.Hash(),
        Sql = "SELECT e.campaign, count(*) AS n FROM exposures AS e WHERE e.campaign = $campaign GROUP BY e.campaign",
        Parameters = [new ParameterDeclaration("campaign", "VARCHAR", ["spring", "summer"])],
        Privacy = new PrivacySpec("aggregate", 10),
        Recipients = ["advertiser"],
        ProposedBy = "advertiser",
    };

    /// <summary>A body for <see cref="Computation"/>: its hash and the given parameters.</summary>
    private string Body(string parameters = """{"campaign":"spring"}""") => $$"""{"computationHash":"{{Computation.Hash()}}","parameters":{{parameters}}}""";

    /// <summary>A request signed the way the CLI signs it (RequestSignature), as the server forwards it; HASH in a body is the computation's hash.</summary>
    private SignedRunRequest Sign(PartyKeys signer, string? body = null, string path = "/api/computations/comp1/jobs", long? timestamp = null, string nonce = "nonce-0123456789abcdef")
    {
        var bytes = Encoding.UTF8.GetBytes((body ?? Body()).Replace("HASH", Computation.Hash(), StringComparison.Ordinal));
        var at = timestamp ?? Now.ToUnixTimeSeconds();
        var signature = RequestSignature.Sign(signer.SigningKey, "POST", path, Hashing.Sha256Hex(bytes), at, nonce);
        return new SignedRunRequest(PartyKeys.KeyId(signer.SigningKey.PublicKey), path, at, nonce, signature, Hashing.B64Url(bytes));
    }

    private static string JobOf(SignedRunRequest request) => RunRequestVerifier.JobId(request.KeyId, request.Nonce);

    private static Dictionary<string, string> Spring => new() { ["campaign"] = "spring" };

    [Fact]
    public void An_analysts_request_with_the_jobs_exact_parameters_verifies()
    {
        var request = Sign(_p.Advertiser);

        Assert.Null(RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, Spring, Now));
        // A queue wait within a day is fine.
        Assert.Null(RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, Spring, Now.AddHours(23)));
        Assert.Matches("^job-[0-9a-f]{16}$", JobOf(request));
    }

    [Fact]
    public void Parameter_values_the_analyst_did_not_sign_are_refused_without_echoing_them()
    {
        var request = Sign(_p.Advertiser);

        var other = RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, new Dictionary<string, string> { ["campaign"] = "summer" }, Now);
        var extra = RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, new Dictionary<string, string> { ["campaign"] = "spring", ["x"] = "1" }, Now);
        var none = RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, new Dictionary<string, string>(), Now);

        foreach (var reason in new[] { other, extra, none })
        {
            Assert.NotNull(reason);
            Assert.Contains("are not the ones 'advertiser' signed", reason, StringComparison.Ordinal);
            Assert.DoesNotContain("summer", reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_job_without_a_request_or_with_a_forged_or_moved_one_is_refused()
    {
        var request = Sign(_p.Advertiser);
        var job = JobOf(request);

        Assert.Contains("carries no signed run request", RunRequestVerifier.Verify(_p.Contract, Computation, job, null, Spring, Now), StringComparison.Ordinal);
        // The operator rewrites the body (its own values) but cannot sign for the analyst.
        var rewritten = request with { Body = Hashing.B64Url(Encoding.UTF8.GetBytes(Body("""{"campaign":"summer"}"""))) };
        Assert.Contains("does not verify", RunRequestVerifier.Verify(_p.Contract, Computation, job, rewritten, new Dictionary<string, string> { ["campaign"] = "summer" }, Now), StringComparison.Ordinal);
        // Another field of the signing input changed.
        Assert.Contains("does not verify", RunRequestVerifier.Verify(_p.Contract, Computation, job, request with { Timestamp = request.Timestamp + 1 }, Spring, Now), StringComparison.Ordinal);
        Assert.Contains("does not verify", RunRequestVerifier.Verify(_p.Contract, Computation, job, request with { Signature = "AAAA" }, Spring, Now), StringComparison.Ordinal);
        // A request to run another computation is not a request to run this one, however well signed.
        var elsewhere = Sign(_p.Advertiser, path: "/api/computations/comp2/jobs");
        Assert.Contains("not a request to run computation 'comp1'", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(elsewhere), elsewhere, Spring, Now), StringComparison.Ordinal);
        var withQuery = Sign(_p.Advertiser, path: "/api/computations/comp1/jobs?x=1");
        Assert.Contains("not a request to run computation 'comp1'", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(withQuery), withQuery, Spring, Now), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_an_analyst_of_the_contract_can_request_a_run()
    {
        var retailer = Sign(_p.Retailer);
        Assert.Contains("'retailer', who does not hold the analyst role", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(retailer), retailer, Spring, Now), StringComparison.Ordinal);

        using var stranger = PartyKeys.Create("stranger");
        var foreign = Sign(stranger);
        Assert.Contains("not a party of contract 'c1'", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(foreign), foreign, Spring, Now), StringComparison.Ordinal);
    }

    [Fact]
    public void One_signed_request_runs_as_one_job_and_only_within_a_day()
    {
        var request = Sign(_p.Advertiser);

        // The operator replays the request under a fresh job id: refused. (Under its own id it is the same job, which the
        // server's job table and audit log hold once.)
        Assert.Contains("is not the job its run request derives", RunRequestVerifier.Verify(_p.Contract, Computation, "job-0000000000000000", request, Spring, Now), StringComparison.Ordinal);
        Assert.NotEqual(JobOf(request), JobOf(Sign(_p.Advertiser, nonce: "nonce-fedcba9876543210")));
        // Kept back past a day, or signed in the future: refused.
        Assert.Contains("more than 24 hours ago or in the future", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, Spring, Now.AddHours(24).AddSeconds(1)), StringComparison.Ordinal);
        var future = Sign(_p.Advertiser, timestamp: Now.AddMinutes(6).ToUnixTimeSeconds());
        Assert.Contains("in the future", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(future), future, Spring, Now), StringComparison.Ordinal);
        var edge = Sign(_p.Advertiser, timestamp: long.MinValue);
        Assert.NotNull(RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(edge), edge, Spring, Now));
    }

    [Theory]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"spring"},"parameters":{"campaign":"summer"}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"summer","campaign":"spring"}}""")]
    [InlineData("""{"computationHash":"HASH","computationHash":"HASH","parameters":{"campaign":"spring"}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"spring"},"extra":1}""")]
    [InlineData("""{"computationHash":"HASH","Parameters":{"campaign":"spring"}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":7}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":["spring"]}""")]
    [InlineData("""{"parameters":{"campaign":"spring"}}""")]
    [InlineData("""{"computationHash":null,"parameters":{"campaign":"spring"}}""")]
    [InlineData("""{"computationHash":"abc","parameters":{"campaign":"spring"}}""")]
    [InlineData("""{"computationHash":"HASH ","parameters":{"campaign":"spring"}}""")]
    [InlineData("""[]""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"spring"}""")]
    // Not text: a lone surrogate escape in a value or a name (JsonElement refuses to read it; the reader must say false, not throw).
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"\ud800"}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"campaign":"\udc00"}}""")]
    [InlineData("""{"computationHash":"HASH","parameters":{"\ud800":"spring"}}""")]
    [InlineData("""{"computationHash":"HASH","\ud800":null}""")]
    public void A_signed_body_that_other_readers_could_read_differently_is_refused(string body)
    {
        var request = Sign(_p.Advertiser, body);

        var parsed = true;
        Assert.Null(Record.Exception(() => parsed = RunRequestVerifier.TryParseBody(Encoding.UTF8.GetBytes(body.Replace("HASH", Computation.Hash(), StringComparison.Ordinal)), out _)));
        Assert.False(parsed);
        Assert.Contains("is not a run request body", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, Spring, Now), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(27)] // inside a value
    [InlineData(16)] // inside a parameter name
    public void A_body_that_is_not_utf8_is_refused_rather_than_an_exception(int at)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"parameters":{"campaign":"spring"},"computationHash":"{{Computation.Hash()}}"}""");
        body[at] = 0xff;

        var parsed = true;
        Assert.Null(Record.Exception(() => parsed = RunRequestVerifier.TryParseBody(body, out _)));
        Assert.False(parsed);
    }

    [Fact]
    public void Absent_or_null_parameters_are_no_parameters()
    {
        var hash = new string('0', 64);
        Assert.True(RunRequestVerifier.TryParseBody(Encoding.UTF8.GetBytes($$"""{"computationHash":"{{hash}}"}"""), out var none));
        Assert.Empty(none.Parameters);
        Assert.Equal(hash, none.ComputationHash);
        Assert.True(RunRequestVerifier.TryParseBody(Encoding.UTF8.GetBytes($$"""{"parameters":null,"computationHash":"{{hash}}"}"""), out var nulled));
        Assert.Empty(nulled.Parameters);
        Assert.True(RunRequestVerifier.TryParseBody(Encoding.UTF8.GetBytes($$$"""{"computationHash":"{{{hash}}}","parameters":{"a":"x","b":""}}"""), out var two));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "x", ["b"] = string.Empty }, two.Parameters);
    }

    [Fact]
    public void A_request_is_not_accepted_for_another_computation_under_the_same_id()
    {
        // Ids are unique only by the server's word: an operator could let a second computation be proposed under the same
        // id, in another contract where the analyst is an analyst too or again in this one. The signed hash tells them apart.
        var otherContract = _p.Contract with { Id = "c2", Title = "another contract with the same analyst" };
        const string other = "SELECT e.campaign, count(DISTINCT e.customer_id) AS n FROM exposures AS e WHERE e.campaign = $campaign GROUP BY e.campaign";
        var inAnotherContract = Computation with { ContractId = otherContract.Id, ContractHash = otherContract.Hash(), Sql = other };
        var inThisContract = Computation with { Sql = other };
        var request = Sign(_p.Advertiser);

        Assert.Null(RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, Spring, Now));
        Assert.Contains("signed for another computation than 'comp1' of contract 'c2' (hash mismatch)", RunRequestVerifier.Verify(otherContract, inAnotherContract, JobOf(request), request, Spring, Now), StringComparison.Ordinal);
        Assert.Contains("(hash mismatch)", RunRequestVerifier.Verify(_p.Contract, inThisContract, JobOf(request), request, Spring, Now), StringComparison.Ordinal);
    }

    [Fact]
    public void A_ticket_without_parameter_values_is_a_refusal_not_an_exception()
    {
        var request = Sign(_p.Advertiser);

        Assert.Contains("carries no parameter values", RunRequestVerifier.Verify(_p.Contract, Computation, JobOf(request), request, null, Now), StringComparison.Ordinal);
    }

    public void Dispose() => _p.Dispose();
}

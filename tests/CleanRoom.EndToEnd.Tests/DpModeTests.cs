using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>dp-mode computations through the real server and enclave processes.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class DpModeTests(CleanRoomFixture f)
{
    private const string Sql = """
        SELECT e.campaign, p.category, count(*) AS conversions, sum(p.amount) AS revenue, count(DISTINCT e.customer_id) AS customers
        FROM exposures AS e
        JOIN purchases AS p ON e.customer_id = p.customer_id
        WHERE p.purchase_date >= e.exposure_date
        GROUP BY e.campaign, p.category
        """;

    private ComputationDocument Dp(string id, string sql, DpSpec spec) =>
        f.Computation(id, sql) with { Privacy = new PrivacySpec(PrivacySpec.DpMode) { Dp = spec } };

    [Fact]
    public async Task A_dp_computation_is_proposed_approved_run_and_its_signed_sealed_result_verifies_with_epsilon_charged()
    {
        // ε = 0.25 and δ = 1e-5 are decimals that must hash identically for the proposer, the server and the enclave.
        string[] campaigns = ["back-to-school", "holiday-gifts", "new-year", "summer-sale"];
        var publicGroups = campaigns.SelectMany(c => DemoData.Categories.Select(k => (IReadOnlyList<string>)[c, k])).ToList();
        var computation = Dp("dp-conversions", Sql, new DpSpec
        {
            Epsilon = 0.25m,
            Delta = 0.00001m,
            MaxGroupsContributed = 4,
            Bounds = [new("conversions", 0m, 5m), new("revenue", 0m, 1000m, 0.01m)],
            PublicGroups = publicGroups,
        });
        using (var advertiser = f.Api("advertiser"))
        {
            var proposed = await PartyOperations.ProposeAsync(advertiser, computation, default);
            Assert.Contains("privacy mode dp: ε=0.25, δ=0.00001, max groups per unit=4", proposed.AnalysisSummary, StringComparison.Ordinal);
            Assert.Contains("partition selection public (32 group(s))", proposed.AnalysisSummary, StringComparison.Ordinal);
        }

        foreach (var name in new[] { "manager", "retailer", "advertiser" })
        {
            using var api = f.Api(name);
            await PartyOperations.VoteAsync(api, computation.Id, VoteStatement.Approve, default);
        }

        var job = await f.RunAndWaitAsync(computation.Id);
        Assert.True(job.State == "finished", $"job {job.State}: {job.Reason}\n{f.EnclaveOutput}");
        var verification = await f.VerifiedResultAsync(job.Id);
        var record = verification.Record!;
        Assert.Equal(PrivacySpec.DpMode, record.Privacy.Mode);
        Assert.Equal(0.25m, record.Privacy.EpsilonCharged);
        Assert.Equal(0.00001m, record.Privacy.DeltaCharged);
        Assert.Equal(computation.Hash(), record.ComputationHash);
        var output = verification.Output!;
        Assert.Equal(["campaign", "category", "conversions", "revenue", "customers"], output.Columns);
        // Public groups: every listed group is released, in group-value order, with finite numbers.
        Assert.Equal(publicGroups.Select(g => g[0] + "/" + g[1]).Order(StringComparer.Ordinal), output.Rows.Select(r => r[0].GetString() + "/" + r[1].GetString()));
        Assert.All(output.Rows, r => Assert.All(r.Skip(2), v => Assert.True(double.IsFinite(v.GetDouble()))));
    }

    [Fact]
    public async Task The_cli_proposes_from_a_privacy_file_and_show_prints_the_dp_parameters()
    {
        var dir = Directory.CreateTempSubdirectory("cleanroom-dpcli-").FullName;
        try
        {
            f.Parties["advertiser"].Save(dir);
            var sqlFile = Path.Combine(dir, "q.sql");
            var privacyFile = Path.Combine(dir, "dp.json");
            await File.WriteAllTextAsync(sqlFile, "SELECT p.category, count(*) AS n, avg(p.amount) AS mean FROM purchases AS p GROUP BY p.category");
            await File.WriteAllTextAsync(privacyFile, """
                {"mode": "dp", "dp": {"epsilon": 0.5, "delta": 0.000001, "maxGroupsContributed": 2,
                 "bounds": [{"column": "n", "lower": 0, "upper": 3}, {"column": "mean", "lower": 0, "upper": 500, "granularity": 0.01}]}}
                """);
            string[] common = ["--server", f.Server.ToString(), "--keys", dir];

            var (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1),
                [.. common, "computation", "propose", "--contract", f.Contract.Id, "--id", "dp-cli", "--sql-file", sqlFile, "--privacy-file", privacyFile, "--recipient", "advertiser", "--as", "advertiser"]);
            Assert.True(code == 0, output);
            Assert.Contains("privacy mode dp: ε=0.5, δ=0.000001, max groups per unit=2", output, StringComparison.Ordinal);

            (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1),
                [.. common, "computation", "show", "--computation", "dp-cli", "--as", "advertiser"]);
            Assert.True(code == 0, output);
            Assert.Contains("privacy: dp, ε = 0.5, δ = 0.000001, max groups per unit = 2, unit table (first in FROM), bounds n in [0, 3] step 1; mean in [0, 500] step 0.01, private partition selection", output, StringComparison.Ordinal);

            await File.WriteAllTextAsync(privacyFile, "{not json");
            (code, output) = await Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1),
                [.. common, "computation", "propose", "--contract", f.Contract.Id, "--id", "dp-cli-bad", "--sql-file", sqlFile, "--privacy-file", privacyFile, "--recipient", "advertiser", "--as", "advertiser"]);
            Assert.NotEqual(0, code);
            Assert.Contains("is not a JSON privacy specification", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("SELECT p.category, max(p.amount) AS top FROM purchases AS p GROUP BY p.category", "top", "privacy.dp_unsupported")]
    [InlineData("SELECT p.category, sum(p.amount) AS total FROM purchases AS p GROUP BY p.category", "other", "privacy.bad_spec")]
    public async Task A_dp_computation_the_pipeline_cannot_bound_is_refused_at_proposal(string sql, string boundColumn, string code)
    {
        var id = "dp-refused-" + code[8..].Replace('_', '-');
        using var advertiser = f.Api("advertiser");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.ProposeAsync(
            advertiser, Dp(id, sql, new DpSpec { Epsilon = 1m, Delta = 0.00001m, Bounds = [new(boundColumn, 0m, 1m)] }), default));

        Assert.Equal(code, ex.Code);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.Target == "computation/" + id && e.Action == "computation.proposed" && e.Outcome == "refused");
    }
}

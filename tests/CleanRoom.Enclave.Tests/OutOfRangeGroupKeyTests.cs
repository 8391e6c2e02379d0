using System.Text;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave.Tests;

/// <summary>
/// Error oracle through the read of a group key: the enclave reads every group DuckDB returns before the k filter or
/// partition selection, so a DATE that .NET cannot hold (one person's typo such as year 20230, or an analyst's
/// CASE that gives only the target such a date) must not fail the job only when that person exists.
/// </summary>
public sealed class OutOfRangeGroupKeyTests
{
    private static readonly DatasetDeclaration s_customers = new()
    {
        Name = "customers",
        Owner = "retailer",
        Columns = [new("customer_id", "BIGINT"), new("email", "VARCHAR"), new("signup", "DATE")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
    };

    private static readonly SqlCatalog s_catalog = new([new DatasetSchema("customers", [new("customer_id", "BIGINT"), new("email", "VARCHAR"), new("signup", "DATE")], "customer_id", ["customer_id"])]);

    private const string Crafted = "SELECT TRY_CAST(CASE WHEN email = 'target@example.org' THEN '20000-01-01' ELSE '2020-01-01' END AS DATE) AS d, count(*) AS n FROM customers GROUP BY d";
    private const string Typo = "SELECT signup, count(*) AS n FROM customers GROUP BY signup";

    [Theory]
    [InlineData(Crafted, "999,target@example.org,2020-01-01")]
    [InlineData(Typo, "999,target@example.org,20230-01-01")]
    [InlineData(Typo, "999,target@example.org,infinity")]
    public void A_dp_job_runs_the_same_whether_or_not_the_person_with_the_out_of_range_date_exists(string sql, string targetRow)
    {
        using var analyzer = new SqlAnalyzer();
        var analysis = analyzer.Analyze(sql, s_catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var plan = DpRewriter.Plan(sql, analysis, new DpSpec { Epsilon = 1m, Delta = 1e-6m, MaxGroupsContributed = 1, Bounds = [new("n", 0m, 1m)] }, s_catalog, analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);

        foreach (var present in new[] { false, true })
        {
            using var sandbox = Load(present ? targetRow : null);
            var result = DpExecution.Execute(sandbox, plan, []);
            Assert.DoesNotContain(result.Rows, r => r[0] is string); // the lone target's group is never selected at ε = 1
        }
    }

    [Theory]
    [InlineData(Crafted, "999,target@example.org,2020-01-01")]
    [InlineData(Typo, "999,target@example.org,20230-01-01")]
    public void An_aggregate_job_runs_the_same_whether_or_not_the_person_with_the_out_of_range_date_exists(string sql, string targetRow)
    {
        using var analyzer = new SqlAnalyzer();
        var analysis = analyzer.Analyze(sql, s_catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var rewritten = ThresholdRewriter.Rewrite(sql, analysis, s_catalog, analyzer);

        object?[][]? without = null;
        foreach (var present in new[] { false, true })
        {
            using var sandbox = Load(present ? targetRow : null);
            var rows = EnclavePipeline.Execute(sandbox, rewritten, [], 10).Rows.Select(r => r.ToArray()).ToArray();
            without ??= rows;
            Assert.Equal(without, rows); // the target's one-person group is suppressed: same output either way
        }
    }

    private static SqlSandbox Load(string? targetRow)
    {
        var sandbox = new SqlSandbox("512MB");
        using var file = MemoryFile.Create("customers");
        var csv = new StringBuilder("customer_id,email,signup\n");
        for (var i = 0; i < 50; i++)
        {
            csv.Append(i).Append(",p").Append(i).Append("@example.org,2020-01-01\n");
        }

        if (targetRow is not null)
        {
            csv.Append(targetRow).Append('\n');
        }

        using (var w = file.OpenWrite())
        {
            w.Write(Encoding.UTF8.GetBytes(csv.ToString()));
        }

        sandbox.LoadCsv(s_customers, file.Path);
        return sandbox;
    }
}

using System.Text;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave.Tests;

/// <summary>The enclave's dp-mode branch on a real sandbox: the plan's fast path when it has one, the streaming path otherwise.</summary>
public sealed class DpExecutionTests : IDisposable
{
    // So large that the discrete Laplace noise is 0 with overwhelming probability.
    private const decimal NoiselessEpsilon = 1_000_000_000_000m;

    private static readonly DatasetDeclaration s_purchases = new()
    {
        Name = "purchases",
        Owner = "retailer",
        Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR"), new("amount", "DOUBLE")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
    };

    private readonly SqlAnalyzer _analyzer = new();

    public void Dispose() => _analyzer.Dispose();

    [Theory]
    [InlineData("0.01", true)]
    [InlineData("0.25", false)]
    public void Release_clamps_caps_and_sums_on_the_path_the_plan_picks(string granularity, bool fastPath)
    {
        // Customers 1–20 buy 10.00 of toys each; customer 99 buys in 1000 categories, 1e9 of toys, and NaN / ∞ elsewhere.
        var csv = new StringBuilder("customer_id,category,amount\n");
        for (var i = 1; i <= 20; i++)
        {
            csv.Append(i).Append(",toys,10\n");
        }

        csv.Append("99,toys,1e9\n").Append("99,books,nan\n").Append("99,games,inf\n");
        for (var i = 0; i < 1000; i++)
        {
            csv.Append("99,c").Append(i).Append(",-inf\n");
        }

        var dp = new DpSpec
        {
            Epsilon = NoiselessEpsilon,
            Delta = 0m,
            MaxGroupsContributed = 2,
            Bounds = [new("total", 0m, 100m, decimal.Parse(granularity, System.Globalization.CultureInfo.InvariantCulture))],
            PublicGroups = [["toys"]],
        };
        const string sql = "SELECT category, sum(amount) AS total FROM purchases GROUP BY category";
        var catalog = new SqlCatalog([new DatasetSchema("purchases", [new("customer_id", "BIGINT"), new("category", "VARCHAR"), new("amount", "DOUBLE")], "customer_id", ["customer_id"])]);
        var plan = DpRewriter.Plan(sql, _analyzer.Analyze(sql, catalog), dp, catalog, _analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);
        Assert.Equal(fastPath, plan.TotalsSql is not null);

        using var sandbox = new SqlSandbox("512MB");
        using var file = MemoryFile.Create("purchases");
        using (var w = file.OpenWrite())
        {
            w.Write(Encoding.UTF8.GetBytes(csv.ToString()));
        }

        sandbox.LoadCsv(s_purchases, file.Path);
        var release = DpExecution.Execute(sandbox, plan, []);

        // Public group "toys": only its rows count, so customer 99 contributes there (one public group ≤ L0), clamped to 100.
        var row = Assert.Single(release.Rows);
        Assert.Equal("toys", row[0]);
        Assert.Equal((20 * 10m) + 100m, row[1]);
        Assert.Equal(new PrivacyCost(NoiselessEpsilon, 0m), release.Cost);
    }
}

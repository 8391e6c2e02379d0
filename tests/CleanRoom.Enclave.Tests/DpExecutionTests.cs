using System.Globalization;
using System.Text;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave.Tests;

/// <summary>The dp branch of a job in the sandbox: which form of the cap runs, and that each caps exactly.</summary>
public sealed class DpExecutionTests
{
    private static readonly DatasetDeclaration s_readings = new()
    {
        Name = "readings",
        Owner = "lab",
        Columns = [new("customer_id", "BIGINT"), new("site", "VARCHAR")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
    };

    private static readonly SqlCatalog s_catalog = new([new DatasetSchema("readings", [new("customer_id", "BIGINT"), new("site", "VARCHAR")], "customer_id", ["customer_id"])]);

    [Theory]
    [InlineData(1L, true)] // units 0 … 199: the cap indexed by unit value
    [InlineData(1_000_000_000_000_000L, false)] // 10^15 apart: too wide for the index, so DuckDB groups the units
    public void A_dp_job_caps_every_unit_to_l0_groups_in_whichever_form_the_unit_range_allows(long spacing, bool indexed)
    {
        // 200 units at 10 sites each, L0 = 2: exactly 400 (unit, site) rows survive the cap. ε is so large that the noise
        // (scale 2 / 500) cannot move the total by 1.
        const string sql = "SELECT site, count(*) AS n FROM readings GROUP BY site";
        using var analyzer = new SqlAnalyzer();
        var analysis = analyzer.Analyze(sql, s_catalog);
        Assert.True(analysis.IsAllowed, analysis.Reason);
        var plan = DpRewriter.Plan(sql, analysis, new DpSpec { Epsilon = 1000m, Delta = 1e-6m, MaxGroupsContributed = 2, Bounds = [new("n", 0m, 1m)] }, s_catalog, analyzer);
        Assert.True(plan.IsAllowed, plan.Reason);

        using var sandbox = Load(spacing);
        var release = DpExecution.Execute(sandbox, plan, []);

        // Which form ran: the unit index, if it was sized, is still there after the job (the next enable forgets it).
        var probe = Record.Exception(() => sandbox.Query("SELECT __cr_cap_rank(CAST(0 AS BIGINT))", []));
        Assert.Equal(indexed, probe is null);
        Assert.Equal(10, release.Rows.Count);
        var total = release.Rows.Sum(r => Convert.ToDecimal(r[1], CultureInfo.InvariantCulture));
        Assert.InRange(total, 399.5m, 400.5m);
    }

    private static SqlSandbox Load(long spacing)
    {
        var sandbox = new SqlSandbox("512MB");
        using var file = MemoryFile.Create("readings");
        var csv = new StringBuilder("customer_id,site\n");
        for (var unit = 0L; unit < 200; unit++)
        {
            for (var site = 0; site < 10; site++)
            {
                csv.Append(unit * spacing).Append(",s").Append(site).Append('\n');
            }
        }

        using (var w = file.OpenWrite())
        {
            w.Write(Encoding.UTF8.GetBytes(csv.ToString()));
        }

        sandbox.LoadCsv(s_readings, file.Path);
        return sandbox;
    }
}

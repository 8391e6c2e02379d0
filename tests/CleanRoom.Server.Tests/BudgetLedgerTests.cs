using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Privacy;
using CleanRoom.Server;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server.Tests;

public sealed class BudgetLedgerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-budget-").FullName;
    private readonly Database _db;
    private int _jobs;

    public BudgetLedgerTests()
    {
        _db = new Database(Path.Combine(_dir, "cleanroom.db"));
        _db.WriteAsync((c, tx) =>
        {
            Database.Exec(c, "INSERT INTO contracts (id, version, document, hash, state, created_at) VALUES ('c1', 1, '{}', 'h', 'active', 't');", tx);
            Database.Exec(c, "INSERT INTO computations (id, contract_id, document, hash, state, required_approvers, tables_read, summary, created_at) VALUES ('q', 'c1', '{}', 'h', 'approved', '[]', '[]', '', 't');", tx);
            return 0;
        }).GetAwaiter().GetResult();
    }

    private static ContractDocument Contract(params (string Name, PrivacyBudget? Budget)[] datasets) => new()
    {
        Id = "c1",
        Title = "ledger",
        Parties = [],
        Datasets = datasets.Select(d => new DatasetDeclaration { Name = d.Name, Owner = "owner", Columns = [new("id", "BIGINT")], PrivacyUnit = "id", Budget = d.Budget }).ToList(),
        ValidFrom = DateTimeOffset.UnixEpoch,
        ValidUntil = DateTimeOffset.MaxValue,
        AttestationPolicy = "simulated",
    };

    private static PrivacyCost Cost(decimal epsilon, decimal delta = 0m) => new(epsilon, delta);

    /// <summary>Plans and, if allowed, records one run in one write, as the run endpoint does; returns the plan.</summary>
    private Task<BudgetChargeResult> RunAsync(ContractDocument contract, PrivacyCost cost, params string[] tables) => _db.WriteAsync((c, tx) =>
    {
        var plan = BudgetLedger.Plan(c, tx, contract, tables, cost);
        if (plan.IsCharged)
        {
            var job = "j" + Interlocked.Increment(ref _jobs);
            Database.Exec(c, "INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at) VALUES ($j, 'c1', 'q', '{}', 'a', 'queued', 't', 't');", tx, ("$j", job));
            BudgetLedger.Record(c, tx, contract.Id, job, plan, "2026-01-01T00:00:00.0000000+00:00");
        }

        return plan;
    });

    private BudgetReport Report(ContractDocument contract)
    {
        using var c = _db.Open();
        return BudgetLedger.Report(c, null, contract);
    }

    [Fact]
    public async Task Four_runs_of_a_quarter_spend_a_budget_of_one_and_the_fifth_is_refused()
    {
        var contract = Contract(("purchases", new PrivacyBudget(1.0m, 0.00001m)));
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await RunAsync(contract, Cost(0.25m, 0.000001m), "purchases")).IsCharged);
        }

        var refused = await RunAsync(contract, Cost(0.25m, 0.000001m), "purchases");
        Assert.True(refused.IsRefused);
        Assert.Equal(BudgetLedger.Exhausted, refused.Code);
        Assert.Equal("run refused: the privacy budget of dataset 'purchases' is exhausted: the run costs ε = 0.25, δ = 0.000001 and ε = 0, δ = 0.000006 remains", refused.Reason);

        var d = Assert.Single(Report(contract).Datasets);
        Assert.Equal(new PrivacyBudget(1.0m, 0.000004m), d.Spent);
        Assert.Equal(new PrivacyBudget(0m, 0.000006m), d.Remaining);
        Assert.Equal(4, d.ChargeCount);
        Assert.Equal(4, d.Charges.Count);
    }

    [Fact]
    public async Task Arithmetic_is_exact_so_three_tenths_fit_a_budget_of_three_tenths()
    {
        // In binary floating point 0.1 + 0.1 + 0.1 > 0.3, which would wrongly refuse the third run.
        var contract = Contract(("purchases", new PrivacyBudget(0.3m, 0m)));
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await RunAsync(contract, Cost(0.1m), "purchases")).IsCharged);
        }

        Assert.Equal(BudgetLedger.Exhausted, (await RunAsync(contract, Cost(0.0000000000000000000000000001m), "purchases")).Code);
        Assert.Equal(new PrivacyBudget(0m, 0m), Report(contract).Datasets[0].Remaining);
    }

    [Fact]
    public async Task Delta_alone_can_exhaust_a_budget()
    {
        var contract = Contract(("purchases", new PrivacyBudget(10m, 0.000001m)));
        Assert.True((await RunAsync(contract, Cost(0.1m, 0.000001m), "purchases")).IsCharged);
        var refused = await RunAsync(contract, Cost(0.1m, 0.000001m), "purchases");
        Assert.Equal(BudgetLedger.Exhausted, refused.Code);
        Assert.Contains("ε = 9.9, δ = 0 remains", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_over_a_dataset_without_budget_is_refused_and_charges_no_other_dataset()
    {
        var contract = Contract(("exposures", new PrivacyBudget(1m, 0m)), ("purchases", null));
        var refused = await RunAsync(contract, Cost(0.5m), "exposures", "purchases");
        Assert.Equal(BudgetLedger.NoBudget, refused.Code);
        Assert.Contains("'purchases'", refused.Reason, StringComparison.Ordinal);
        var report = Report(contract);
        Assert.All(report.Datasets, d => Assert.Equal(0, d.ChargeCount));
        Assert.Equal(new PrivacyBudget(1m, 0m), report.Datasets.Single(d => d.Dataset == "exposures").Remaining);
        Assert.Null(report.Datasets.Single(d => d.Dataset == "purchases").Remaining);
    }

    [Fact]
    public async Task A_run_that_would_exhaust_one_of_its_datasets_charges_none_of_them()
    {
        var contract = Contract(("exposures", new PrivacyBudget(5m, 0m)), ("purchases", new PrivacyBudget(0.5m, 0m)));
        Assert.True((await RunAsync(contract, Cost(0.5m), "exposures", "purchases", "purchases")).IsCharged);
        Assert.Equal(BudgetLedger.Exhausted, (await RunAsync(contract, Cost(0.5m), "exposures", "purchases")).Code);
        var report = Report(contract);
        Assert.Equal(new PrivacyBudget(0.5m, 0m), report.Datasets.Single(d => d.Dataset == "exposures").Spent);
        Assert.All(report.Datasets, d => Assert.Equal(1, d.ChargeCount));
    }

    [Fact]
    public async Task Concurrent_runs_never_overspend()
    {
        var contract = Contract(("purchases", new PrivacyBudget(1.0m, 0m)));
        var plans = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => RunAsync(contract, Cost(0.25m), "purchases"))));
        Assert.Equal(4, plans.Count(p => p.IsCharged));
        Assert.Equal(new PrivacyBudget(0m, 0m), Report(contract).Datasets[0].Remaining);
    }

    [Fact]
    public async Task Charges_stay_when_jobs_fail_or_are_cancelled_and_cannot_be_deleted_or_lowered()
    {
        var contract = Contract(("purchases", new PrivacyBudget(1m, 0m)));
        await RunAsync(contract, Cost(0.25m), "purchases");
        await RunAsync(contract, Cost(0.25m), "purchases");
        await _db.WriteAsync((c, tx) =>
        {
            Database.Exec(c, "UPDATE jobs SET state = 'failed' WHERE id = 'j1';", tx);
            Database.Exec(c, "UPDATE jobs SET state = 'cancelled' WHERE id = 'j2';", tx);
            return 0;
        });
        Assert.Equal(new PrivacyBudget(0.5m, 0m), Report(contract).Datasets[0].Spent);

        foreach (var refund in new[]
        {
            "DELETE FROM budget_charges;",
            "UPDATE budget_charges SET epsilon = '0';",
            "DELETE FROM budget_totals;",
            "UPDATE budget_totals SET epsilon_spent = '0';",
        })
        {
            var ex = await Assert.ThrowsAsync<SqliteException>(() => _db.WriteAsync((c, tx) =>
            {
                Database.Exec(c, refund, tx);
                return 0;
            }));
            Assert.Matches("never refunded|never changed|only grow", ex.Message);
        }

        Assert.Equal(new PrivacyBudget(0.5m, 0m), Report(contract).Datasets[0].Spent);
    }

    [Fact]
    public async Task A_job_is_unpaid_for_every_dataset_it_holds_no_charge_for()
    {
        var contract = Contract(("exposures", new PrivacyBudget(1m, 0m)), ("purchases", new PrivacyBudget(1m, 0m)));
        await RunAsync(contract, Cost(0.25m), "purchases");
        await _db.WriteAsync((c, tx) =>
        {
            Database.Exec(c, "INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at) VALUES ('unpaid', 'c1', 'q', '{}', 'a', 'queued', 't', 't');", tx);
            return 0;
        });
        using var conn = _db.Open();
        Assert.Null(BudgetLedger.Unpaid(conn, null, "c1", "j1", ["purchases"]));
        Assert.Equal("exposures", BudgetLedger.Unpaid(conn, null, "c1", "j1", ["purchases", "exposures"]));
        Assert.Equal("purchases", BudgetLedger.Unpaid(conn, null, "c1", "unpaid", ["purchases"]));
    }

    [Fact]
    public async Task Charges_survive_reopening_the_database()
    {
        var contract = Contract(("purchases", new PrivacyBudget(1m, 0m)));
        await RunAsync(contract, Cost(0.75m), "purchases");
        _db.Dispose();
        using var reopened = new Database(Path.Combine(_dir, "cleanroom.db"));
        using var c = reopened.Open();
        Assert.Equal(new PrivacyBudget(0.25m, 0m), BudgetLedger.Report(c, null, contract).Datasets[0].Remaining);
    }

    public void Dispose()
    {
        _db.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

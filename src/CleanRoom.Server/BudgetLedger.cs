using System.Globalization;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Privacy;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// The differential-privacy budget ledger: one row per (contract, dataset, job) charge and one running total per
/// (contract, dataset). A dp run is planned and charged in the same write transaction that creates its job, before it can run,
/// and on the single writer, so two runs can never both spend the last of a budget. Nothing here ever deletes or
/// lowers a charge: a failed, refused or cancelled job keeps what it cost (the schema refuses deletes as well).
/// Amounts are exact decimals, stored as invariant-culture text.
/// </summary>
public static class BudgetLedger
{
    public const string NoBudget = "budget.none";
    public const string Exhausted = "budget.exhausted";

    /// <summary>
    /// Decides whether a run costing <paramref name="cost"/> may charge every distinct dataset in
    /// <paramref name="tablesRead"/>: all of them or none. Writes nothing; <see cref="Record"/> writes the charges
    /// in the same transaction. Returns the planned charges, or the refusal naming the dataset and what it has left.
    /// </summary>
    public static BudgetChargeResult Plan(SqliteConnection c, SqliteTransaction tx, ContractDocument contract, IEnumerable<string> tablesRead, PrivacyCost cost)
    {
        var planned = new List<BudgetCharge>();
        foreach (var dataset in tablesRead.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (contract.FindDataset(dataset)?.Budget is not { } total)
            {
                return BudgetChargeResult.Refuse(NoBudget, $"run refused: dataset '{dataset}' has no differential-privacy budget in contract '{contract.Id}', so dp runs on it are refused");
            }

            var spent = Spent(c, tx, contract.Id, dataset).Spent;

            // Compared against what remains rather than by adding first: no overflow, and a total that somehow
            // exceeds the budget (null) refuses.
            var remaining = PrivacyCost.Remaining(new PrivacyCost(total.Epsilon, total.Delta), spent);
            if (remaining is not { } left || !cost.FitsWithin(left))
            {
                var leftText = remaining is { } r ? $"ε = {PrivacyBudget.Format(r.Epsilon)}, δ = {PrivacyBudget.Format(r.Delta)}" : "nothing";
                return BudgetChargeResult.Refuse(Exhausted, $"run refused: the privacy budget of dataset '{dataset}' is exhausted: the run costs ε = {PrivacyBudget.Format(cost.Epsilon)}, δ = {PrivacyBudget.Format(cost.Delta)} and {leftText} remains");
            }

            planned.Add(new BudgetCharge(dataset, cost, PrivacyCost.Remaining(left, cost)!.Value));
        }

        return BudgetChargeResult.Ok(planned);
    }

    /// <summary>Writes the charges of <paramref name="plan"/> for <paramref name="jobId"/>, whose row must already exist in this transaction.</summary>
    public static void Record(SqliteConnection c, SqliteTransaction tx, string contractId, string jobId, BudgetChargeResult plan, string now)
    {
        if (plan.IsRefused)
        {
            throw new InvalidOperationException("a refused budget plan cannot be recorded");
        }

        foreach (var charge in plan.Charges)
        {
            Database.Exec(c, "INSERT INTO budget_charges (contract_id, dataset, job_id, epsilon, delta, charged_at) VALUES ($c, $d, $j, $e, $dl, $t);", tx,
                ("$c", contractId), ("$d", charge.Dataset), ("$j", jobId), ("$e", PrivacyBudget.Format(charge.Cost.Epsilon)), ("$dl", PrivacyBudget.Format(charge.Cost.Delta)), ("$t", now));
            var (spent, count) = Spent(c, tx, contractId, charge.Dataset);
            var after = spent + charge.Cost;
            Database.Exec(c, """
                INSERT INTO budget_totals (contract_id, dataset, epsilon_spent, delta_spent, charges) VALUES ($c, $d, $e, $dl, $n)
                ON CONFLICT (contract_id, dataset) DO UPDATE SET epsilon_spent = excluded.epsilon_spent, delta_spent = excluded.delta_spent, charges = excluded.charges;
                """, tx, ("$c", contractId), ("$d", charge.Dataset), ("$e", PrivacyBudget.Format(after.Epsilon)), ("$dl", PrivacyBudget.Format(after.Delta)), ("$n", count + 1));
        }
    }

    /// <summary>The first dataset in <paramref name="tablesRead"/> that job <paramref name="jobId"/> holds no charge for; null when every one is paid.</summary>
    public static string? Unpaid(SqliteConnection c, SqliteTransaction? tx, string contractId, string jobId, IEnumerable<string> tablesRead)
    {
        foreach (var dataset in tablesRead.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (Database.Scalar(c, "SELECT 1 FROM budget_charges WHERE contract_id = $c AND dataset = $d AND job_id = $j;", tx, ("$c", contractId), ("$d", dataset), ("$j", jobId)) is null)
            {
                return dataset;
            }
        }

        return null;
    }

    /// <summary>What the contract's datasets have spent and have left, with every charge.</summary>
    public static BudgetReport Report(SqliteConnection c, SqliteTransaction? tx, ContractDocument contract)
    {
        var charges = new Dictionary<string, List<BudgetChargeView>>(StringComparer.Ordinal);
        using (var cmd = Database.Command(c, "SELECT b.dataset, b.job_id, j.computation_id, b.epsilon, b.delta, b.charged_at FROM budget_charges b JOIN jobs j ON j.id = b.job_id WHERE b.contract_id = $c ORDER BY b.rowid;", tx, ("$c", contract.Id)))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                if (!charges.TryGetValue(r.GetString(0), out var list))
                {
                    charges[r.GetString(0)] = list = [];
                }

                list.Add(new BudgetChargeView(r.GetString(1), r.GetString(2), Parse(r.GetString(3)), Parse(r.GetString(4)), DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture)));
            }
        }

        var datasets = contract.Datasets.Select(d =>
        {
            var (spent, count) = Spent(c, tx, contract.Id, d.Name);
            var remaining = d.Budget is { } total ? PrivacyCost.Remaining(new PrivacyCost(total.Epsilon, total.Delta), spent) ?? PrivacyCost.Zero : (PrivacyCost?)null;
            return new DatasetBudgetView(
                d.Name,
                d.Owner,
                d.Budget,
                new PrivacyBudget(spent.Epsilon, spent.Delta),
                remaining is { } left ? new PrivacyBudget(left.Epsilon, left.Delta) : null,
                count,
                charges.GetValueOrDefault(d.Name) ?? []);
        }).ToList();
        return new BudgetReport(contract.Id, datasets);
    }

    private static decimal Parse(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static (PrivacyCost Spent, int Charges) Spent(SqliteConnection c, SqliteTransaction? tx, string contractId, string dataset)
    {
        using var cmd = Database.Command(c, "SELECT epsilon_spent, delta_spent, charges FROM budget_totals WHERE contract_id = $c AND dataset = $d;", tx, ("$c", contractId), ("$d", dataset));
        using var r = cmd.ExecuteReader();
        return r.Read() ? (new PrivacyCost(Parse(r.GetString(0)), Parse(r.GetString(1))), r.GetInt32(2)) : (PrivacyCost.Zero, 0);
    }
}

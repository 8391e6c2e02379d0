using System.CommandLine;
using System.Globalization;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Spectre.Console;

namespace CleanRoom.Cli;

/// <summary>`cleanroom budget show`: any party of a contract sees each dataset's privacy budget, spent and remaining.</summary>
internal static class BudgetCommand
{
    public static Command Create(Option<string> asParty)
    {
        var contract = new Option<string>("--contract") { Description = "contract id", Required = true };
        var charges = new Option<bool>("--charges") { Description = "also list every charge (job, computation, ε, δ, time)" };
        var show = new Command("show", "show each dataset's differential-privacy budget: total, spent, remaining and number of charges") { contract, charges, asParty };
        show.SetAction(CliApp.Guard(async (pr, ct) =>
        {
            using var api = CliApp.Api(pr);
            var report = await PartyOperations.GetBudgetAsync(api, pr.GetValue(contract)!, ct);
            if (CliApp.WantsJson(pr))
            {
                CliApp.PrintJson(report);
                return 0;
            }

            // Narrow enough for an 80-column terminal; every amount is exact (ε, δ), "-" where there is no budget.
            var table = new Table().Title($"privacy budget of contract '{Markup.Escape(report.ContractId)}'")
                .AddColumns("dataset", "total (ε, δ)", "spent (ε, δ)", "remaining (ε, δ)", "charges");
            foreach (var d in report.Datasets)
            {
                table.AddRow(
                    Markup.Escape(d.Dataset),
                    Pair(d.Total),
                    Pair(d.Spent),
                    Pair(d.Remaining),
                    d.ChargeCount.ToString(CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            if (report.Datasets.Any(d => d.Total is null))
            {
                Console.WriteLine("datasets without a budget (-) refuse every dp-mode run");
            }

            if (pr.GetValue(charges))
            {
                // One line per charge rather than a table, so that ids are never wrapped.
                foreach (var d in report.Datasets)
                {
                    foreach (var c in d.Charges)
                    {
                        Console.WriteLine($"charge: {d.Dataset} ε = {PrivacyBudget.Format(c.Epsilon)}, δ = {PrivacyBudget.Format(c.Delta)} by job {c.JobId} (computation {c.ComputationId}) at {c.ChargedAt.ToString("u", CultureInfo.InvariantCulture)}; never refunded");
                    }
                }
            }

            return 0;
        }));
        return new Command("budget", "inspect the differential-privacy budget ledger") { show };
    }

    private static string Pair(PrivacyBudget? amount) => amount is { } a ? $"{PrivacyBudget.Format(a.Epsilon)}, {PrivacyBudget.Format(a.Delta)}" : "-";
}

using System.CommandLine;
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

            var table = new Table().Title($"privacy budget of contract '{Markup.Escape(report.ContractId)}'")
                .AddColumns("dataset", "owner", "total ε", "total δ", "spent ε", "spent δ", "remaining ε", "remaining δ", "charges");
            foreach (var d in report.Datasets)
            {
                table.AddRow(
                    Markup.Escape(d.Dataset),
                    Markup.Escape(d.Owner),
                    Amount(d.Total?.Epsilon),
                    Amount(d.Total?.Delta),
                    Amount(d.Spent.Epsilon),
                    Amount(d.Spent.Delta),
                    Amount(d.Remaining?.Epsilon),
                    Amount(d.Remaining?.Delta),
                    d.ChargeCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            if (report.Datasets.Any(d => d.Total is null))
            {
                Console.WriteLine("datasets without a budget (-) refuse every dp-mode run");
            }

            if (pr.GetValue(charges))
            {
                var list = new Table().Title("charges (never refunded)").AddColumns("dataset", "job", "computation", "ε", "δ", "charged at");
                foreach (var d in report.Datasets)
                {
                    foreach (var c in d.Charges)
                    {
                        list.AddRow(Markup.Escape(d.Dataset), Markup.Escape(c.JobId), Markup.Escape(c.ComputationId), Amount(c.Epsilon), Amount(c.Delta), c.ChargedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
                    }
                }

                AnsiConsole.Write(list);
            }

            return 0;
        }));
        return new Command("budget", "inspect the differential-privacy budget ledger") { show };
    }

    private static string Amount(decimal? amount) => amount is { } a ? PrivacyBudget.Format(a) : "-";
}

using System.CommandLine;
using CleanRoom.Core.Api;

namespace CleanRoom.Cli;

/// <summary>`cleanroom consent revoke|restore|list`: a data provider withdraws or restores consent; any party lists what is withdrawn.</summary>
internal static class ConsentCommand
{
    private sealed record Change(string Scope, string Target);

    private sealed record ChangeResult(string Scope, string Target, string State, bool Changed, IReadOnlyList<string> CancelledJobs);

    public static Command Create(Option<string> asParty)
    {
        Command Verb(string verb, string description)
        {
            var contract = new Option<string>("--contract") { Description = "contract id", Required = true };
            var dataset = new Option<string?>("--dataset") { Description = "one of your datasets" };
            var computation = new Option<string?>("--computation") { Description = "a computation that reads your data" };
            var whole = new Option<bool>("--whole-contract") { Description = "the whole contract" };
            var command = new Command(verb, description) { contract, dataset, computation, whole, asParty };
            command.SetAction(CliApp.Guard(async (pr, ct) =>
            {
                var targets = new[] { pr.GetValue(dataset) is { } d ? ("dataset", d) : default, pr.GetValue(computation) is { } c ? ("computation", c) : default, pr.GetValue(whole) ? ("contract", pr.GetValue(contract)!) : default }
                    .Where(t => t != default).ToList();
                if (targets.Count != 1)
                {
                    throw new CliException("name exactly one of --dataset, --computation or --whole-contract", "cli.usage");
                }

                using var api = CliApp.Api(pr);
                var (scope, target) = targets[0];
                var result = await api.PostAsync<ChangeResult>($"api/contracts/{pr.GetValue(contract)}/consent/{verb}", new Change(scope, target!), ct);
                CliApp.Output(pr, result, $"consent {result.State} for {scope} '{target}'" + (result.Changed ? string.Empty : " (it already was)")
                    + (result.CancelledJobs.Count > 0 ? $"; cancelled job(s) {string.Join(", ", result.CancelledJobs)}" : string.Empty));
                return 0;
            }));
            return command;
        }

        var listed = new Option<string>("--contract") { Description = "contract id", Required = true };
        var list = new Command("list", "list the consent withdrawals in force (any party of the contract)") { listed, asParty };
        list.SetAction(CliApp.Guard(async (pr, ct) =>
        {
            using var api = CliApp.Api(pr);
            var revocations = await api.GetAsync<List<ConsentRevocation>>($"api/contracts/{pr.GetValue(listed)}/consent", ct);
            CliApp.Output(pr, revocations, revocations.Count == 0
                ? $"no consent is withdrawn in contract '{pr.GetValue(listed)}'"
                : string.Join(Environment.NewLine, revocations.Select(r => $"withdrawn: {r.Scope} '{r.Target}' by {r.Party} at {r.RevokedAt}")));
            return 0;
        }));

        return new Command("consent", "revoke or restore your consent (takes effect at once), or list what is withdrawn")
        {
            Verb("revoke", "revoke consent: new runs and key releases are refused, running jobs cancelled and their results withheld"),
            Verb("restore", "restore consent you revoked"),
            list,
        };
    }
}

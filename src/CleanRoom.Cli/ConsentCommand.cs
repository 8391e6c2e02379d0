using System.CommandLine;

namespace CleanRoom.Cli;

/// <summary>`cleanroom consent revoke|restore`: a data provider withdraws or restores consent.</summary>
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

        return new Command("consent", "revoke or restore your consent (takes effect at once)")
        {
            Verb("revoke", "revoke consent: new runs and key releases are refused, running jobs cancelled and their results withheld"),
            Verb("restore", "restore consent you revoked"),
        };
    }
}

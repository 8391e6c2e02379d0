using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// SECURITY.md: from the commit of a termination on, every path that checks `active` refuses (proposals, votes, runs).
/// Proposals, votes and runs checked the contract (and a run the computation's approval) before their write transaction and not in it, so
/// one that passed its check before the termination committed was queued or counted after it.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class TerminationRaceTests(CleanRoomFixture f)
{
    [Fact]
    public async Task No_run_is_queued_and_no_vote_is_counted_after_a_termination_commits()
    {
        var failures = new List<string>();
        for (var round = 0; round < 3 && failures.Count == 0; round++)
        {
            failures.AddRange(await RaceAsync());
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private async Task<List<string>> RaceAsync()
    {
        var id = "term-race-" + Guid.NewGuid().ToString("N")[..6];
        var contract = await LongJob.CreateAsync(f.Server, f.Parties, id, f.Root, 200);
        var pending = new ComputationDocument
        {
            Id = id + "-pending", ContractId = id, ContractHash = contract.Hash(), Sql = DemoData.ConversionsSql,
            Privacy = new PrivacySpec("aggregate", 10), Recipients = ["advertiser"], ProposedBy = "advertiser",
        };
        using (var advertiser = f.Api("advertiser"))
        {
            await PartyOperations.ProposeAsync(advertiser, pending, default);
        }

        var jobs = new System.Collections.Concurrent.ConcurrentBag<string>();
        var runs = Enumerable.Range(0, 24).Select(async i =>
        {
            await Task.Delay(i * 15);
            using var api = f.Api("advertiser");
            try
            {
                jobs.Add((await PartyOperations.RunAsync(api, LongJob.ComputationId(id), new Dictionary<string, string>(), default)).Id);
            }
            catch (CliException)
            {
                // Refused (contract.not_active): what the race is about is only what was accepted.
            }
        });
        var votes = new[] { "retailer", "advertiser", "manager" }.Select(async (name, i) =>
        {
            await Task.Delay(100 + (i * 40));
            using var api = f.Api(name);
            try
            {
                await PartyOperations.VoteAsync(api, pending.Id, VoteStatement.Approve, default);
            }
            catch (CliException)
            {
            }
        });
        var proposals = Enumerable.Range(0, 6).Select(async i =>
        {
            await Task.Delay(120 + (i * 20));
            using var api = f.Api("advertiser");
            try
            {
                await PartyOperations.ProposeAsync(api, pending with { Id = $"{id}-p{i}" }, default);
            }
            catch (CliException)
            {
            }
        });
        var terminate = Task.Run(async () =>
        {
            await Task.Delay(150);
            using var manager = f.Api("manager");
            await PartyOperations.TerminateContractAsync(manager, id, "race", default);
        });
        await Task.WhenAll(runs.Concat(votes).Concat(proposals).Append(terminate));

        var log = (await f.AuditAsync()).Entries;
        var terminatedAt = log.Single(e => e.Action == "contract.terminated" && e.Target == "contract/" + id && e.Outcome == "ok").Seq;
        var failures = new List<string>();
        failures.AddRange(log.Where(e => e.Seq > terminatedAt && e.Action == "job.queued" && e.Outcome == "ok" && jobs.Contains(e.Target["job/".Length..]))
            .Select(e => $"{e.Target} queued (entry {e.Seq}) after contract '{id}' was terminated (entry {terminatedAt})"));
        failures.AddRange(log.Where(e => e.Seq > terminatedAt && e.Target == "computation/" + pending.Id && e.Outcome == "ok" && e.Action is "computation.approved" or "computation.rejected")
            .Select(e => $"{e.Actor}'s {e.Action} of {e.Target} counted (entry {e.Seq}) after contract '{id}' was terminated (entry {terminatedAt})"));
        failures.AddRange(log.Where(e => e.Seq > terminatedAt && e.Action == "computation.proposed" && e.Outcome == "ok" && e.Target.StartsWith($"computation/{id}-p", StringComparison.Ordinal))
            .Select(e => $"{e.Target} proposed (entry {e.Seq}) after contract '{id}' was terminated (entry {terminatedAt})"));
        return failures;
    }
}

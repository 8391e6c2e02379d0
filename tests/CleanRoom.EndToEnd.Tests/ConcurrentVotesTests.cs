using CleanRoom.Cli;
using CleanRoom.Core;

namespace CleanRoom.EndToEnd.Tests;

[Collection(CleanRoomCollection.Name)]
public sealed class ConcurrentVotesTests(CleanRoomFixture f)
{
    [Fact]
    public async Task Approvals_racing_each_other_approve_the_computation_exactly_once()
    {
        var id = "race-" + Guid.NewGuid().ToString("N")[..6];
        using (var advertiser = f.Api("advertiser"))
        {
            await PartyOperations.ProposeAsync(advertiser, f.Computation(id, "SELECT e.campaign, p.category, count(*) AS n FROM exposures AS e JOIN purchases AS p ON e.customer_id = p.customer_id GROUP BY e.campaign, p.category"), default);
        }

        var votes = new[] { "manager", "retailer", "advertiser" }.Select(async name =>
        {
            using var api = f.Api(name);
            return (await PartyOperations.VoteAsync(api, id, VoteStatement.Approve, default)).Ack.State;
        });
        var states = await Task.WhenAll(votes);
        Assert.Equal(1, states.Count(s => s == "approved"));

        var entries = (await f.AuditAsync()).Entries.Where(e => e.Target == "computation/" + id).ToList();
        Assert.Equal(3, entries.Count(e => e.Action == "computation.approved" && e.Actor != "server"));
        Assert.Single(entries, e => e.Action == "computation.approved" && e.Actor == "server");
    }
}

using System.Net;
using System.Text;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// A body of the right JSON syntax whose members are null where the type has none ("computation": null, "recipients":
/// null or [null]) is request.malformed (400, audited), not a NullReferenceException that escapes as an unaudited 500.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class MalformedBodyTests(CleanRoomFixture f)
{
    private const string Sql = "SELECT e.campaign, count(*) AS n FROM exposures AS e GROUP BY e.campaign";

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"computation\":null}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":{\"mode\":\"aggregate\"},\"recipients\":null}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":null,\"recipients\":[\"advertiser\"]}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":{\"mode\":null},\"recipients\":[\"advertiser\"]}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":null,\"privacy\":{\"mode\":\"aggregate\"},\"recipients\":[\"advertiser\"]}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":{\"mode\":\"aggregate\"},\"recipients\":[\"advertiser\"],\"parameters\":null}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":{\"mode\":\"aggregate\"},\"recipients\":[null]}}")]
    [InlineData("{\"computation\":{COMMON,\"sql\":\"SQL\",\"privacy\":{\"mode\":\"aggregate\"},\"recipients\":[\"advertiser\"],\"parameters\":[null]}}")]
    public async Task A_proposal_with_a_null_where_none_belongs_is_malformed_and_audited(string template)
    {
        var common = $"\"id\":\"null-member\",\"contractId\":\"{f.Contract.Id}\",\"contractHash\":\"{f.Contract.Hash()}\",\"proposedBy\":\"advertiser\"";
        var body = template.Replace("COMMON", common, StringComparison.Ordinal).Replace("SQL", Sql, StringComparison.Ordinal);
        var before = (await f.AuditAsync()).Entries.Count;

        using var request = RequestAuthenticationTests.Signed(f.Parties["advertiser"], HttpMethod.Post, $"api/contracts/{f.Contract.Id}/computations", Encoding.UTF8.GetBytes(body));
        var (status, code) = await RequestAuthenticationTests.SendAsync(f.Server, request);

        Assert.Equal((HttpStatusCode.BadRequest, "request.malformed"), (status, code));
        Assert.Contains((await f.AuditAsync()).Entries.Skip(before), e => e.Actor == "advertiser" && e.Action == "computation.proposed" && e.Outcome == "refused" && e.ReasonCode == "request.malformed");
    }

    [Fact]
    public async Task A_null_value_in_a_public_group_is_not_malformed_it_names_the_null_group()
    {
        var computation = f.Computation("public-null-group", Sql) with
        {
            Privacy = new CleanRoom.Core.PrivacySpec(CleanRoom.Core.PrivacySpec.DpMode)
            {
                Dp = new CleanRoom.Core.DpSpec
                {
                    Epsilon = 0.5m,
                    Delta = 0m,
                    MaxGroupsContributed = 1,
                    Bounds = [new("n", 0m, 5m)],
                    PublicGroups = [["summer-sale"], [null!]],
                },
            },
        };
        using var advertiser = f.Api("advertiser");

        var proposed = await CleanRoom.Cli.PartyOperations.ProposeAsync(advertiser, computation, default);

        Assert.Equal("proposed", proposed.State);
        Assert.Contains("partition selection public (2 group(s))", proposed.AnalysisSummary, StringComparison.Ordinal);
    }
}

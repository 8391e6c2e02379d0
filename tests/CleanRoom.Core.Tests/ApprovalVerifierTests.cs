using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Core.Tests;

public sealed class ApprovalVerifierTests : IDisposable
{
    private readonly TestParties _p = new();

    private ComputationDocument Computation(string sql = "SELECT e.campaign, count(*) AS n FROM exposures AS e GROUP BY e.campaign") => new()
    {
        Id = "comp1",
        ContractId = _p.Contract.Id,
        ContractHash = _p.Contract.Hash(),
        Sql = sql,
        Privacy = new PrivacySpec("aggregate", 10),
        Recipients = ["advertiser"],
        ProposedBy = "advertiser",
    };

    private SignedStatement ContractSig(PartyKeys k, ContractDocument? c = null)
    {
        c ??= _p.Contract;
        return new(k.Name, Jws.Sign(new ContractSignatureStatement(c.Id, c.Version, c.Hash(), k.Name, DateTimeOffset.UtcNow), k.SigningKey, StatementTypes.ContractSignature));
    }

    private SignedStatement Vote(PartyKeys k, ComputationDocument c, string decision = VoteStatement.Approve) =>
        new(k.Name, Jws.Sign(new VoteStatement(c.ContractId, c.Id, c.Hash(), k.Name, decision, DateTimeOffset.UtcNow), k.SigningKey, StatementTypes.Vote));

    [Fact]
    public void Dp_decimals_survive_canonical_hashing_signing_and_verifying_after_a_json_round_trip()
    {
        // The proposer hashes and signs; the server and the enclave each re-parse the JSON they received and re-hash it.
        var contract = _p.Contract with { Datasets = _p.Contract.Datasets.Select(d => d with { Budget = new PrivacyBudget(10m, 0.00001m) }).ToList() };
        var c = Computation() with
        {
            ContractHash = contract.Hash(),
            Privacy = new PrivacySpec(PrivacySpec.DpMode)
            {
                Dp = new DpSpec { Epsilon = 0.25m, Delta = 0.00001m, MaxGroupsContributed = 2, Bounds = [new("n", 0m, 2.5m, 0.01m)] },
            },
        };
        var votes = new List<SignedStatement> { Vote(_p.Advertiser, c), Vote(_p.Manager, c) };

        var canonical = System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(c));
        var received = System.Text.Json.JsonSerializer.Deserialize<ComputationDocument>(System.Text.Json.JsonSerializer.Serialize(c, CanonicalJson.SerializerOptions), CanonicalJson.SerializerOptions)!;
        var receivedContract = System.Text.Json.JsonSerializer.Deserialize<ContractDocument>(CanonicalJson.Serialize(contract), CanonicalJson.SerializerOptions)!;

        Assert.Contains("\"epsilon\":0.25", canonical, StringComparison.Ordinal);
        Assert.Contains("\"delta\":0.00001", canonical, StringComparison.Ordinal);
        Assert.Equal(0.25m, received.Privacy.Dp!.Epsilon);
        Assert.Equal(0.00001m, received.Privacy.Dp.Delta);
        Assert.Equal(c.Hash(), received.Hash());
        Assert.Equal(contract.Hash(), receivedContract.Hash());
        Assert.Null(ApprovalVerifier.VerifyApprovals(receivedContract, received, ["advertiser", "manager"], votes));
        // An aggregate-mode computation's canonical JSON has no "dp" member, so its hash is unchanged by the DP fields.
        Assert.DoesNotContain("\"dp\"", System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(Computation())), StringComparison.Ordinal);
        Assert.DoesNotContain("\"budget\"", System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(_p.Contract)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_privacy_file_as_the_readme_shows_it_parses_to_a_dp_spec()
    {
        const string json = """
            {"mode": "dp",
             "dp": {"epsilon": 1, "delta": 0.000001, "maxGroupsContributed": 4, "unitTable": "exposures",
                    "bounds": [{"column": "conversions", "lower": 0, "upper": 10},
                               {"column": "revenue", "lower": 0, "upper": 2000, "granularity": 0.01}]}}
            """;

        var spec = System.Text.Json.JsonSerializer.Deserialize<PrivacySpec>(json, CanonicalJson.SerializerOptions)!;

        Assert.Equal(PrivacySpec.DpMode, spec.Mode);
        Assert.Equal(0.000001m, spec.Dp!.Delta);
        Assert.Equal(4, spec.Dp.MaxGroupsContributed);
        Assert.Equal("exposures", spec.Dp.UnitTable);
        Assert.Equal(1m, spec.Dp.Bounds[0].Granularity);
        Assert.Equal(0.01m, spec.Dp.Bounds[1].Granularity);
        Assert.Null(spec.Dp.PublicGroups);
    }

    [Fact]
    public void A_contract_signed_by_every_party_verifies() =>
        Assert.Null(ApprovalVerifier.VerifyContract(_p.Contract, _p.All.Select(k => ContractSig(k)).ToList()));

    [Fact]
    public void A_contract_missing_one_signature_is_refused() =>
        Assert.Contains("not signed by party 'manager'", ApprovalVerifier.VerifyContract(_p.Contract, [ContractSig(_p.Retailer), ContractSig(_p.Advertiser)]), StringComparison.Ordinal);

    [Fact]
    public void A_signature_over_another_contract_version_is_refused()
    {
        var other = _p.Contract with { Title = "changed" };
        var sigs = new List<SignedStatement> { ContractSig(_p.Retailer, other), ContractSig(_p.Advertiser), ContractSig(_p.Manager) };
        Assert.Contains("hash mismatch", ApprovalVerifier.VerifyContract(_p.Contract, sigs), StringComparison.Ordinal);
    }

    [Fact]
    public void Required_approvers_are_the_owners_of_tables_read_plus_managers()
    {
        Assert.Equal(["advertiser", "manager"], ApprovalVerifier.RequiredApprovers(_p.Contract, ["exposures"]));
        Assert.Equal(["advertiser", "manager", "retailer"], ApprovalVerifier.RequiredApprovers(_p.Contract, ["exposures", "purchases", "purchases"]));
    }

    [Fact]
    public void A_computation_approved_by_every_required_party_verifies()
    {
        var c = Computation();
        Assert.Null(ApprovalVerifier.VerifyApprovals(_p.Contract, c, ["advertiser", "manager"], [Vote(_p.Advertiser, c), Vote(_p.Manager, c)]));
    }

    [Fact]
    public void Sql_edited_after_approval_is_refused()
    {
        var approved = Computation();
        var votes = new List<SignedStatement> { Vote(_p.Advertiser, approved), Vote(_p.Manager, approved) };
        var edited = approved with { Sql = approved.Sql.Replace("count(*)", "sum(1)", StringComparison.Ordinal) };
        Assert.Contains("changed after approval", ApprovalVerifier.VerifyApprovals(_p.Contract, edited, ["advertiser", "manager"], votes), StringComparison.Ordinal);
    }

    [Fact]
    public void A_computation_not_approved_by_every_owner_is_refused()
    {
        var c = Computation();
        Assert.Contains("not approved by 'retailer'", ApprovalVerifier.VerifyApprovals(_p.Contract, c, ["advertiser", "manager", "retailer"], [Vote(_p.Advertiser, c), Vote(_p.Manager, c)]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejection_vetoes()
    {
        var c = Computation();
        Assert.Contains("rejected by 'manager'", ApprovalVerifier.VerifyApprovals(_p.Contract, c, ["advertiser", "manager"], [Vote(_p.Advertiser, c), Vote(_p.Manager, c, VoteStatement.Reject)]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_vote_signed_by_someone_else_is_refused()
    {
        var c = Computation();
        var forged = new SignedStatement("manager", Jws.Sign(new VoteStatement(c.ContractId, c.Id, c.Hash(), "manager", VoteStatement.Approve, DateTimeOffset.UtcNow), _p.Advertiser.SigningKey, StatementTypes.Vote));
        Assert.Contains("invalid", ApprovalVerifier.VerifyApprovals(_p.Contract, c, ["advertiser", "manager"], [Vote(_p.Advertiser, c), forged]), StringComparison.Ordinal);
    }

    [Fact]
    public void An_approver_list_without_the_manager_is_refused()
    {
        var c = Computation();
        Assert.Contains("manager", ApprovalVerifier.VerifyApprovals(_p.Contract, c, ["advertiser"], [Vote(_p.Advertiser, c)]), StringComparison.Ordinal);
    }

    public void Dispose() => _p.Dispose();
}

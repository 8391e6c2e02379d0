using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

/// <summary>Three parties and a two-dataset contract, generated fresh for each test class.</summary>
internal sealed class TestParties : IDisposable
{
    public TestParties()
    {
        Retailer = PartyKeys.Create("retailer");
        Advertiser = PartyKeys.Create("advertiser");
        Manager = PartyKeys.Create("manager");
        Contract = new ContractDocument
        {
            Id = "c1",
            Title = "test",
            Parties =
            [
                Party(Retailer, Roles.DataProvider),
                Party(Advertiser, Roles.DataProvider, Roles.Analyst, Roles.ResultRecipient),
                Party(Manager, Roles.ContractManager),
            ],
            Datasets =
            [
                new DatasetDeclaration { Name = "purchases", Owner = "retailer", Columns = [new("customer_id", "BIGINT"), new("amount", "DOUBLE")], PrivacyUnit = "customer_id", JoinColumns = ["customer_id"] },
                new DatasetDeclaration { Name = "exposures", Owner = "advertiser", Columns = [new("customer_id", "BIGINT"), new("campaign", "VARCHAR")], PrivacyUnit = "customer_id", JoinColumns = ["customer_id"] },
            ],
            ValidFrom = DateTimeOffset.UtcNow.AddDays(-1),
            ValidUntil = DateTimeOffset.UtcNow.AddDays(30),
            AttestationPolicy = "simulated",
        };
    }

    public PartyKeys Retailer { get; }

    public PartyKeys Advertiser { get; }

    public PartyKeys Manager { get; }

    public ContractDocument Contract { get; }

    public IEnumerable<PartyKeys> All => [Retailer, Advertiser, Manager];

    public static ContractParty Party(PartyKeys k, params string[] roles) => new(k.Name, roles, k.Identity.SigningKey, k.Identity.EncryptionKey);

    public void Dispose()
    {
        foreach (var k in All)
        {
            k.Dispose();
        }
    }
}

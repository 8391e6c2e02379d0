using System.Globalization;
using System.Text;
using CleanRoom.Core;

namespace CleanRoom.Cli;

/// <summary>
/// Synthetic demo datasets, generated at run time (never committed). A fixed seed keeps runs
/// comparable. One campaign ("spring-vip") reaches only a handful of customers, so the threshold
/// visibly suppresses its groups.
/// </summary>
internal static class DemoData
{
    public static readonly string[] Categories = ["grocery", "electronics", "apparel", "home", "beauty", "sports", "toys", "books"];
    public static readonly string[] Campaigns = ["summer-sale", "back-to-school", "holiday-gifts", "new-year", "spring-vip"];

    public static long CustomerCount(long rows) => Math.Max(1000, rows / 5);

    public static void WritePurchases(string path, long rows, int seed = 7, IProgress<long>? progress = null)
    {
        var random = new Random(seed);
        var customers = CustomerCount(rows);
        var start = new DateOnly(2026, 1, 1);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.WriteLine("customer_id,category,amount,purchase_date");
        var sb = new StringBuilder(64);
        for (long i = 0; i < rows; i++)
        {
            var customer = 1 + random.NextInt64(customers);
            var category = Categories[random.Next(Categories.Length)];
            var amount = (random.Next(100, 50_000) / 100m).ToString("0.00", CultureInfo.InvariantCulture);
            var date = start.AddDays(random.Next(0, 300)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Clear().Append(customer).Append(',').Append(category).Append(',').Append(amount).Append(',').Append(date);
            writer.WriteLine(sb);
            if ((i & 0xFFFF) == 0)
            {
                progress?.Report(i);
            }
        }

        progress?.Report(rows);
    }

    public static void WriteExposures(string path, long rows, int seed = 11, IProgress<long>? progress = null)
    {
        var random = new Random(seed);
        var customers = CustomerCount(rows);
        var start = new DateOnly(2026, 1, 1);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.WriteLine("customer_id,campaign,exposure_date");
        var sb = new StringBuilder(64);
        for (long i = 0; i < rows; i++)
        {
            // "spring-vip" is shown to only 6 customers, whatever the size: its groups fall below k.
            var vip = random.Next(1000) == 0;
            var customer = vip ? 1 + random.Next(6) : 1 + random.NextInt64(customers);
            var campaign = vip ? Campaigns[^1] : Campaigns[random.Next(Campaigns.Length - 1)];
            var date = start.AddDays(random.Next(0, 300)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            sb.Clear().Append(customer).Append(',').Append(campaign).Append(',').Append(date);
            writer.WriteLine(sb);
            if ((i & 0xFFFF) == 0)
            {
                progress?.Report(i);
            }
        }

        progress?.Report(rows);
    }

    /// <summary>Each demo dataset's total differential-privacy budget over the contract's life.</summary>
    public static readonly PrivacyBudget DemoBudget = new(10m, 0.00001m);

    public static readonly DatasetDeclaration Purchases = new()
    {
        Name = "purchases",
        Owner = "retailer",
        Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR"), new("amount", "DECIMAL(18,2)"), new("purchase_date", "DATE")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
        Budget = DemoBudget,
    };

    public static readonly DatasetDeclaration Exposures = new()
    {
        Name = "exposures",
        Owner = "advertiser",
        Columns = [new("customer_id", "BIGINT"), new("campaign", "VARCHAR"), new("exposure_date", "DATE")],
        PrivacyUnit = "customer_id",
        JoinColumns = ["customer_id"],
        Budget = DemoBudget,
    };

    /// <summary>The retailer × advertiser contract of the demo (and of the end-to-end tests).</summary>
    public static ContractDocument Contract(string id, IReadOnlyDictionary<string, PartyKeys> parties, DateTimeOffset validFrom, DateTimeOffset validUntil)
    {
        ContractParty Party(string name, params string[] roles) => new(name, roles, parties[name].Identity.SigningKey, parties[name].Identity.EncryptionKey);
        return new ContractDocument
        {
            Id = id,
            Title = "Retailer x advertiser campaign measurement",
            Parties =
            [
                Party("retailer", Roles.DataProvider),
                Party("advertiser", Roles.DataProvider, Roles.Analyst, Roles.ResultRecipient),
                Party("manager", Roles.ContractManager, Roles.Auditor),
            ],
            Datasets = [Purchases, Exposures],
            ValidFrom = validFrom,
            ValidUntil = validUntil,
            AttestationPolicy = "simulated",
            MinimumK = 10,
        };
    }

    public const string ConversionsSql = """
        SELECT e.campaign, p.category, count(*) AS conversions, sum(p.amount) AS revenue
        FROM exposures AS e
        JOIN purchases AS p ON e.customer_id = p.customer_id
        WHERE p.purchase_date >= e.exposure_date
        GROUP BY e.campaign, p.category
        ORDER BY e.campaign, p.category
        """;

    /// <summary>
    /// The demo query in dp mode: per exposed customer (the unit of exposures, first in FROM) at most 4 (campaign, category)
    /// groups, at most 10 conversions and 2,000.00 of revenue per group; ε = 3 split evenly over conversions, revenue and
    /// private partition selection, δ = 1e-6 for the selection.
    /// </summary>
    public static readonly DpSpec ConversionsDp = new()
    {
        Epsilon = 3m,
        Delta = 0.000001m,
        MaxGroupsContributed = 4,
        Bounds = [new("conversions", 0m, 10m), new("revenue", 0m, 2000m, 0.01m)],
    };
}

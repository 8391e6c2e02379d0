using System.Text;
using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// A contract whose approved computation keeps the enclave busy for a long time by real work, not by a
/// test hook: both datasets share only a dozen customers, so the join on customer_id multiplies
/// (rows² / 12 pairs) and DuckDB runs for tens of seconds. Tests wait for the job to be in flight by
/// polling the audit log (keys released), never by sleeping.
/// </summary>
internal static class LongJob
{
    public const int Customers = 12;

    public const string Sql = """
        SELECT e.campaign, count(*) AS pairs
        FROM exposures AS e
        JOIN purchases AS p ON e.customer_id = p.customer_id
        GROUP BY e.campaign
        """;

    /// <summary>Drafts, signs and publishes a contract with <paramref name="rows"/> rows per dataset and an approved long computation; returns the contract.</summary>
    public static async Task<ContractDocument> CreateAsync(Uri server, Dictionary<string, PartyKeys> parties, string id, string workDirectory, int rows)
    {
        var contract = CleanRoomFixture.TestContract(id, parties);
        using (var manager = new ApiClient(server, parties["manager"]))
        {
            await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
        }

        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            using var api = new ApiClient(server, parties[name]);
            await PartyOperations.SignContractAsync(api, id, default);
        }

        var data = Directory.CreateDirectory(Path.Combine(workDirectory, id)).FullName;
        var purchases = Path.Combine(data, "purchases.csv");
        var exposures = Path.Combine(data, "exposures.csv");
        await File.WriteAllTextAsync(purchases, Csv("customer_id,category,amount,purchase_date", rows, i => $"{1 + (i % Customers)},toys,1.00,2026-01-01"));
        await File.WriteAllTextAsync(exposures, Csv("customer_id,campaign,exposure_date", rows, i => $"{1 + (i % Customers)},spring,2026-01-01"));
        using (var retailer = new ApiClient(server, parties["retailer"]))
        {
            await PartyOperations.PublishDatasetAsync(retailer, id, "purchases", purchases, data, null, default);
        }

        using (var advertiser = new ApiClient(server, parties["advertiser"]))
        {
            await PartyOperations.PublishDatasetAsync(advertiser, id, "exposures", exposures, data, null, default);
            await PartyOperations.ProposeAsync(advertiser, Computation(contract), default);
        }

        foreach (var name in new[] { "manager", "retailer", "advertiser" })
        {
            using var api = new ApiClient(server, parties[name]);
            await PartyOperations.VoteAsync(api, ComputationId(id), VoteStatement.Approve, default);
        }

        return contract;
    }

    public static string ComputationId(string contractId) => contractId + "-pairs";

    /// <summary>Polls until the enclave holds the job's data keys (it is decrypting or querying), or the job ended.</summary>
    public static async Task<JobView> WaitUntilInFlightAsync(ApiClient api, string contractId, string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            // The log first, then the job: a job read after its keys_released entry is at least running
            // (read the other way round, a claim in between pairs a stale "queued" with the new entry).
            var log = await api.GetAsync<AuditExport>($"api/contracts/{contractId}/audit", default);
            var job = await api.GetAsync<JobView>($"api/jobs/{jobId}", default);
            if (job.State != "queued" && job.State != "running")
            {
                return job;
            }

            if (log.Entries.Any(e => e.Action == "job.keys_released" && e.Target == "job/" + jobId))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not get its keys within {timeout}");
            await Task.Delay(20);
        }
    }

    private static ComputationDocument Computation(ContractDocument contract) => new()
    {
        Id = ComputationId(contract.Id),
        ContractId = contract.Id,
        ContractHash = contract.Hash(),
        Sql = Sql,
        Privacy = new PrivacySpec("aggregate", 10),
        Recipients = ["advertiser"],
        ProposedBy = "advertiser",
    };

    private static string Csv(string header, int rows, Func<int, string> row)
    {
        var sb = new StringBuilder(header.Length + (rows * 32)).AppendLine(header);
        for (var i = 0; i < rows; i++)
        {
            sb.AppendLine(row(i));
        }

        return sb.ToString();
    }
}

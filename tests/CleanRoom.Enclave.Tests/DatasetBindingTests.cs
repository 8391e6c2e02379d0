using System.Security.Cryptography;
using System.Text;
using CleanRoom.Core;
using CleanRoom.Enclave;
using CleanRoom.Envelope;

namespace CleanRoom.Enclave.Tests;

/// <summary>
/// A dataset's ciphertext is bound to the contract the enclave verified (id and hash in the envelope's authenticated
/// dataset id), not only to its name: the untrusted server must not be able to feed contract A's data to a job of a
/// contract B it set up, with itself as owner, approver and recipient, that declares a dataset of the same name.
/// </summary>
public sealed class DatasetBindingTests
{
    private static readonly DatasetDeclaration s_purchases = new()
    {
        Name = "purchases",
        Owner = "retailer",
        Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR"), new("amount", "DECIMAL(18,2)")],
        PrivacyUnit = "customer_id",
    };

    private static ContractDocument Contract(string id, string owner) => new()
    {
        Id = id,
        Title = id,
        Parties = [],
        Datasets = [s_purchases with { Owner = owner }],
        ValidFrom = DateTimeOffset.UnixEpoch,
        ValidUntil = DateTimeOffset.UnixEpoch.AddYears(100),
        AttestationPolicy = "simulated",
    };

    [Fact]
    public async Task A_ciphertext_published_under_one_contract_loads_only_for_that_contract()
    {
        var contractA = Contract("retail-media", "retailer");
        var contractB = Contract("retail-media-copy", "mallory"); // the operator's own contract, same dataset name and columns
        var contractAAgain = contractA with { Title = "retail-media, amended" }; // same id, different content and hash
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var output = new MemoryStream();
        var info = await DatasetEnvelope.EncryptAsync(
            new MemoryStream(Encoding.UTF8.GetBytes("customer_id,category,amount\n1,toys,10.50\n")),
            output, dataKey, new EnvelopeOptions { DatasetId = contractA.DatasetEnvelopeId("purchases") });
        var ciphertext = output.ToArray();
        var digest = Convert.ToHexStringLower(info.CiphertextSha256);

        foreach (var other in new[] { contractB, contractAAgain })
        {
            using var sandbox = new SqlSandbox("256MB");
            var refused = await Assert.ThrowsAsync<JobRefusalException>(() =>
                EnclavePipeline.LoadEncryptedAsync(new MemoryStream(ciphertext), dataKey, other.Datasets[0], other.DatasetEnvelopeId("purchases"), digest, sandbox, CancellationToken.None));
            Assert.Equal("envelope.dataset_mismatch", refused.Code);
        }

        using (var sandbox = new SqlSandbox("256MB"))
        {
            await EnclavePipeline.LoadEncryptedAsync(new MemoryStream(ciphertext), dataKey, contractA.Datasets[0], contractA.DatasetEnvelopeId("purchases"), digest, sandbox, CancellationToken.None);
            sandbox.LockDown();
            Assert.Equal(1L, sandbox.Query("SELECT count(*) FROM purchases", []).Rows[0][0]);
        }
    }
}

using CleanRoom.Cli;
using CleanRoom.Core;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Publishing never destroys the provider's plaintext.</summary>
public sealed class DatasetPublishCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cleanroom-publish-").FullName;
    private readonly PartyKeys _retailer = PartyKeys.Create("retailer");

    public void Dispose()
    {
        _retailer.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task An_input_file_where_the_ciphertext_would_be_written_is_refused_before_anything_is_sent_or_written()
    {
        // The ciphertext goes next to the input as <dataset>.cre: an input of that very name used to be truncated by it.
        var input = Path.Combine(_root, "purchases.cre");
        await File.WriteAllTextAsync(input, "customer_id,category,amount,purchase_date\n1,toys,1.00,2026-01-01\n");
        var before = await File.ReadAllBytesAsync(input);
        using var api = new ApiClient(new Uri("http://127.0.0.1:9/"), _retailer); // nothing listens: the refusal must come first

        var refused = await Assert.ThrowsAsync<CliException>(() => PartyOperations.PublishDatasetAsync(api, "c", "purchases", input, _root, null, default));

        Assert.Equal("dataset.input_is_output", refused.Code);
        Assert.Equal(before, await File.ReadAllBytesAsync(input));
    }
}

using System.Text;
using System.Text.Json;
using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class ContractDocumentTests : IDisposable
{
    private readonly TestParties _parties = new();

    private byte[] Json(ContractDocument c) => JsonSerializer.SerializeToUtf8Bytes(c, CanonicalJson.SerializerOptions);

    [Fact]
    public void A_valid_contract_round_trips_with_the_same_hash()
    {
        var parsed = ContractDocument.Parse(Json(_parties.Contract));
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(_parties.Contract.Hash(), parsed.Contract!.Hash());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"id\":\"x\"}")]
    [InlineData("null")]
    public void Malformed_contract_files_are_refused_with_a_reason(string text)
    {
        var parsed = ContractDocument.Parse(Encoding.UTF8.GetBytes(text));
        Assert.False(parsed.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(parsed.Error));
        Assert.DoesNotContain('\n', parsed.Error!);
    }

    [Fact]
    public void A_dataset_owned_by_a_non_provider_is_refused()
    {
        var bad = _parties.Contract with { Datasets = [_parties.Contract.Datasets[0] with { Owner = "manager" }] };
        Assert.Contains("not a data-provider", ContractDocument.Parse(Json(bad)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_role_is_refused()
    {
        var parties = _parties.Contract.Parties.ToList();
        parties[0] = parties[0] with { Roles = ["superuser"] };
        Assert.Contains("unknown role", ContractDocument.Parse(Json(_parties.Contract with { Parties = parties })).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_signing_key_is_refused()
    {
        var parties = _parties.Contract.Parties.ToList();
        parties[1] = parties[1] with { SigningKey = "AAAA" };
        Assert.Contains("invalid Ed25519", ContractDocument.Parse(Json(_parties.Contract with { Parties = parties })).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_privacy_unit_that_is_not_a_column_is_refused()
    {
        var bad = _parties.Contract with { Datasets = [_parties.Contract.Datasets[0] with { PrivacyUnit = "email" }] };
        Assert.Contains("privacy unit", ContractDocument.Parse(Json(bad)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_contract_without_a_manager_is_refused()
    {
        var bad = _parties.Contract with { Parties = _parties.Contract.Parties.Where(p => p.Name != "manager").ToList() };
        Assert.Contains("contract-manager", ContractDocument.Parse(Json(bad)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Any_change_changes_the_hash()
    {
        Assert.NotEqual(_parties.Contract.Hash(), (_parties.Contract with { MinimumK = 11 }).Hash());
        Assert.NotEqual(_parties.Contract.Hash(), (_parties.Contract with { Title = "test " }).Hash());
    }

    public void Dispose() => _parties.Dispose();
}

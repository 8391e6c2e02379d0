using System.Globalization;
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

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")]
    [InlineData("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    public void A_low_order_encryption_key_is_refused(string hex)
    {
        // RFC 9180 §7.1.4: sealing to such a key gives an all-zero DH output, so no result could ever be sealed to it.
        var parties = _parties.Contract.Parties.ToList();
        parties[1] = parties[1] with { EncryptionKey = Hashing.B64Url(Convert.FromHexString(hex)) };
        Assert.Contains("invalid X25519", ContractDocument.Parse(Json(_parties.Contract with { Parties = parties })).Error, StringComparison.Ordinal);
        Assert.False(PartyKeys.TryImportEncryptionPublicKey(Hashing.B64Url(Convert.FromHexString(hex)), out _));
    }

    [Theory]
    [InlineData("{0}=")]
    [InlineData(" {0}")]
    [InlineData("{0}\n")]
    public void A_signing_key_reused_under_another_spelling_is_refused(string spelling)
    {
        // One key listed twice would let its holder sign contracts and votes as two parties.
        var parties = _parties.Contract.Parties.ToList();
        parties[2] = parties[2] with { SigningKey = string.Format(CultureInfo.InvariantCulture, spelling, parties[0].SigningKey) };
        var parsed = ContractDocument.Parse(Json(_parties.Contract with { Parties = parties }));
        Assert.False(parsed.IsValid);
        Assert.Contains("party 'manager'", parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_encryption_key_that_is_not_unpadded_base64url_is_refused()
    {
        var parties = _parties.Contract.Parties.ToList();
        parties[1] = parties[1] with { EncryptionKey = parties[1].EncryptionKey + "=" };
        Assert.Contains("invalid X25519", ContractDocument.Parse(Json(_parties.Contract with { Parties = parties })).Error, StringComparison.Ordinal);
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

    [Theory]
    [InlineData("0", "0", "needs ε > 0")]
    [InlineData("-1", "0", "needs ε > 0")]
    [InlineData("1", "-0.000001", "needs 0 ≤ δ < 1")]
    [InlineData("1", "1", "needs 0 ≤ δ < 1")]
    [InlineData("1", "1.5", "needs 0 ≤ δ < 1")]
    // Beyond a double's digits the canonical form (and so the hash both signatures cover) would match 1 as well (found in review).
    [InlineData("1.0000000000000000000000000001", "0", "has more significant digits than a signed document keeps (about 15): its hash would also match a different value")]
    [InlineData("1", "0.10000000000000000001", "has more significant digits than a signed document keeps (about 15): its hash would also match a different value")]
    public void A_budget_outside_its_range_is_refused(string epsilon, string delta, string expected)
    {
        var budget = new PrivacyBudget(decimal.Parse(epsilon, CultureInfo.InvariantCulture), decimal.Parse(delta, CultureInfo.InvariantCulture));
        var bad = _parties.Contract with { Datasets = [_parties.Contract.Datasets[0] with { Budget = budget }] };
        var error = ContractDocument.Parse(Json(bad)).Error;
        Assert.Equal($"dataset '{bad.Datasets[0].Name}' budget {expected}", error);
    }

    [Theory]
    [InlineData("1.0", "0")]
    [InlineData("0.000001", "0.999999")]
    [InlineData("12.5", "0.00001")]
    public void A_budget_in_range_is_accepted_and_read_back_exactly(string epsilon, string delta)
    {
        var budget = new PrivacyBudget(decimal.Parse(epsilon, CultureInfo.InvariantCulture), decimal.Parse(delta, CultureInfo.InvariantCulture));
        var contract = _parties.Contract with { Datasets = [_parties.Contract.Datasets[0] with { Budget = budget }] };
        var parsed = ContractDocument.Parse(Json(contract));
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(budget, parsed.Contract!.Datasets[0].Budget);
        Assert.Equal(contract.Hash(), parsed.Contract.Hash());
    }

    [Fact]
    public void A_budget_beyond_the_decimal_range_is_refused_as_malformed()
    {
        var json = Encoding.UTF8.GetString(Json(_parties.Contract with { Datasets = [_parties.Contract.Datasets[0] with { Budget = new PrivacyBudget(1m, 0m) }] }));
        var huge = json.Replace("\"epsilon\":1", "\"epsilon\":1e400", StringComparison.Ordinal);
        Assert.NotEqual(json, huge);
        var parsed = ContractDocument.Parse(Encoding.UTF8.GetBytes(huge));
        Assert.False(parsed.IsValid);
        Assert.StartsWith("contract is not valid JSON", parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_contract_without_budgets_keeps_its_hash_and_its_datasets_have_none()
    {
        var parsed = ContractDocument.Parse(Json(_parties.Contract));
        Assert.All(parsed.Contract!.Datasets, d => Assert.Null(d.Budget));
        Assert.DoesNotContain("budget", Encoding.UTF8.GetString(Json(_parties.Contract)), StringComparison.Ordinal);
    }

    public void Dispose() => _parties.Dispose();
}

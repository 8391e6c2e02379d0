using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class JwsTests : IDisposable
{
    private readonly TestParties _parties = new();

    [Fact]
    public void A_signed_statement_verifies_under_the_signers_key()
    {
        var jws = Jws.Sign(new { a = 1 }, _parties.Retailer.SigningKey, StatementTypes.Vote);
        var result = Jws.Verify(jws, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote);
        Assert.True(result.IsValid);
        Assert.Equal("EdDSA", result.Jws!.Header.Alg);
        Assert.Equal(_parties.Retailer.Id, result.Jws.Header.Kid);
    }

    [Fact]
    public void A_statement_does_not_verify_under_another_key()
    {
        var jws = Jws.Sign(new { a = 1 }, _parties.Retailer.SigningKey, StatementTypes.Vote);
        var result = Jws.Verify(jws, _parties.Advertiser.Identity.SigningKey, StatementTypes.Vote);
        Assert.False(result.IsValid);
        Assert.Equal("jws.bad_signature", result.ErrorCode);
    }

    [Fact]
    public void A_tampered_payload_fails()
    {
        var jws = Jws.Sign(new { decision = "reject" }, _parties.Retailer.SigningKey, StatementTypes.Vote);
        var parts = jws.Split('.');
        var forged = parts[0] + "." + Hashing.B64Url("{\"decision\":\"approve\"}"u8) + "." + parts[2];
        Assert.Equal("jws.bad_signature", Jws.Verify(forged, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote).ErrorCode);
    }

    [Fact]
    public void A_statement_of_another_type_is_refused()
    {
        var jws = Jws.Sign(new { a = 1 }, _parties.Retailer.SigningKey, StatementTypes.ContractSignature);
        Assert.Equal("jws.wrong_type", Jws.Verify(jws, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote).ErrorCode);
    }

    [Fact]
    public void Alg_none_is_refused()
    {
        var header = Hashing.B64Url("{\"alg\":\"none\",\"typ\":\"cleanroom-vote+jws\"}"u8);
        var forged = header + "." + Hashing.B64Url("{}"u8) + ".";
        Assert.False(Jws.Verify(forged, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote).IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("!!.??.**")]
    public void Malformed_input_is_a_failed_result_not_an_exception(string input) =>
        Assert.Equal("jws.malformed", Jws.Verify(input, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote).ErrorCode);

    public void Dispose() => _parties.Dispose();
}

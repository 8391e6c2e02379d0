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

    [Theory]
    // Each validly signed by the retailer; found in review. A reader honouring crit/b64 (RFC 7797) or the first of two
    // duplicate members would read something other than what CleanRoom reads.
    [InlineData("{\"alg\":\"EdDSA\",\"b64\":false,\"crit\":[\"b64\"],\"kid\":\"{kid}\",\"typ\":\"cleanroom-vote+jws\"}", "{\"decision\":\"approve\"}")]
    [InlineData("{\"alg\":\"none\",\"alg\":\"EdDSA\",\"kid\":\"{kid}\",\"typ\":\"cleanroom-vote+jws\"}", "{\"decision\":\"approve\"}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"{kid}\",\"typ\":\"cleanroom-vote+jws\"}", "{\"decision\":\"reject\",\"decision\":\"approve\"}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"{kid}\",\"typ\":\"cleanroom-vote+jws\"}", "{\"decision\": \"approve\"}")]
    [InlineData("{\"typ\":\"cleanroom-vote+jws\",\"alg\":\"EdDSA\",\"kid\":\"{kid}\"}", "{\"decision\":\"approve\"}")]
    public void A_validly_signed_statement_whose_header_or_payload_is_not_canonical_is_refused(string header, string payload)
    {
        var signingInput = Hashing.B64Url(System.Text.Encoding.UTF8.GetBytes(header.Replace("{kid}", _parties.Retailer.Id, StringComparison.Ordinal)))
            + "." + Hashing.B64Url(System.Text.Encoding.UTF8.GetBytes(payload));
        var signature = NSec.Cryptography.SignatureAlgorithm.Ed25519.Sign(_parties.Retailer.SigningKey, System.Text.Encoding.ASCII.GetBytes(signingInput));
        var jws = signingInput + "." + Hashing.B64Url(signature);

        var result = Jws.Verify(jws, _parties.Retailer.Identity.SigningKey, StatementTypes.Vote);

        Assert.False(result.IsValid);
        Assert.Equal("jws.malformed", result.ErrorCode);
        Assert.Contains("canonical", result.Reason, StringComparison.Ordinal);
    }

    public void Dispose() => _parties.Dispose();
}

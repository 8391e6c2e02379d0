using CleanRoom.Core;

namespace CleanRoom.Core.Tests;

public sealed class RuntimeKeysTests
{
    [Fact]
    public void Runtime_keys_with_a_lone_surrogate_are_a_typed_refusal()
    {
        using var claims = System.Text.Json.JsonDocument.Parse("{\"x-ms-runtime\":{\"keys\":[{\"kty\":\"\\ud800\",\"crv\":\"Ed25519\",\"x\":\"AA\"}]}}");
        // A good key beside a bad string: the enclave id (the runtime's canonical hash) cannot be computed.
        using var party = PartyKeys.Create("enclave");
        using var other = System.Text.Json.JsonDocument.Parse("{\"x-ms-runtime\":{\"note\":\"\\udfff\",\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + party.Identity.SigningKey + "\"}]}}");

        var keys = RuntimeKeys.Read(claims.RootElement);
        var none = RuntimeKeys.Read(other.RootElement);

        Assert.False(keys.IsValid);
        Assert.Equal("token.no_runtime_keys", keys.ErrorCode);
        Assert.False(none.IsValid);
        Assert.Equal("token.no_runtime_keys", none.ErrorCode);
    }
}

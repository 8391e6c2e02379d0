using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using NSec.Cryptography;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Forged results: every one must fail `result verify` on the check that names the forgery.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class ResultForgeryTests(CleanRoomFixture f)
{
    private static AttestationPolicy SimulatedPolicy() => AttestationPolicy.Load(Path.Combine(Processes.Policies, "simulated.json")).Policy!;

    private async Task<ResultBundle> RunAndFetchAsync()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        using var api = f.Api("advertiser");
        return await api.GetAsync<ResultBundle>($"api/jobs/{job.Id}/result", default);
    }

    private ResultVerification Verify(ResultBundle bundle) =>
        ResultVerifier.Verify(bundle, SimulatedPolicy(), DateTimeOffset.UtcNow, null, f.Parties["advertiser"]);

    [Fact]
    public async Task A_signature_swapped_in_from_another_result_fails()
    {
        var first = await RunAndFetchAsync();
        var second = await RunAndFetchAsync();
        Assert.True(Verify(first).IsValid);
        var parts = first.ResultJws.Split('.');
        var swapped = first with { ResultJws = parts[0] + "." + parts[1] + "." + second.ResultJws.Split('.')[2] };
        var verification = Verify(swapped);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "result signature" && !c.Passed);
    }

    [Fact]
    public async Task A_result_signed_by_a_key_other_than_the_one_its_attestation_token_binds_fails()
    {
        var genuine = await RunAndFetchAsync();
        Assert.True(Jws.TryDecode(genuine.ResultJws, out var decoded, out _));
        var record = decoded!.PayloadAs<ResultRecord>()!;

        // Someone who is not the attested enclave re-signs the record (here with its row count
        // altered), keeping the genuine enclave's attestation token.
        using var impostor = Key.Create(SignatureAlgorithm.Ed25519);
        var forged = record with { RowCount = record.RowCount + 1 };
        var bundle = genuine with { ResultJws = Jws.Sign(forged, impostor, StatementTypes.Result) };

        var verification = Verify(bundle);
        Assert.False(verification.IsValid);
        var signature = Assert.Single(verification.Checks, c => c.Name == "result signature");
        Assert.False(signature.Passed);
        Assert.Contains(verification.Checks, c => c.Name == "attestation token" && c.Passed);
    }

    [Fact]
    public async Task The_record_names_the_jobs_audit_index_and_the_budget_charged()
    {
        var bundle = await RunAndFetchAsync();
        Assert.True(Jws.TryDecode(bundle.ResultJws, out var decoded, out _));
        var record = decoded!.PayloadAs<ResultRecord>()!;
        Assert.Equal(0m, record.Privacy.EpsilonCharged);
        Assert.Equal("aggregate", record.Privacy.Mode);
        var started = (await f.AuditAsync()).Entries[(int)record.JobAuditIndex];
        Assert.Equal("job.started", started.Action);
        Assert.Equal("job/" + record.JobId, started.Target);
        Assert.True(bundle.AuditIndex > record.JobAuditIndex);
    }

    [Fact]
    public async Task A_production_token_the_operator_signs_itself_is_refused_unless_the_verifier_pins_the_operators_keys()
    {
        var genuine = await RunAndFetchAsync();
        Assert.True(Jws.TryDecode(genuine.ResultJws, out var decoded, out _));
        var record = decoded!.PayloadAs<ResultRecord>()!;

        // The production policy, with one approved image whose measurement the operator claims.
        var measurement = new string('a', 96);
        var policyJson = JsonNode.Parse(File.ReadAllText(Path.Combine(Processes.Policies, "production-sevsnp.json")))!;
        policyJson["allowedMeasurements"] = new JsonArray(measurement);
        var production = AttestationPolicy.Parse(policyJson.ToJsonString()).Policy!;

        // The operator signs a token in the production issuer's name with an RSA key of its own, binding an Ed25519 key of
        // its own, signs the result with it and ships its RSA key as the bundle's JWKS.
        using var operatorRsa = RSA.Create(2048);
        using var operatorEd25519 = Key.Create(SignatureAlgorithm.Ed25519);
        var rsa = operatorRsa.ExportParameters(false);
        var operatorJwks = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = "operator", ["n"] = Hashing.B64Url(rsa.Modulus!), ["e"] = Hashing.B64Url(rsa.Exponent!) }) }.ToJsonString();
        var iat = record.IssuedAt.ToUnixTimeSeconds() - 60;
        var payload = new JsonObject
        {
            ["iss"] = production.Issuer,
            ["iat"] = iat,
            ["nbf"] = iat,
            ["exp"] = iat + 3600,
            ["x-ms-attestation-type"] = "sevsnpvm",
            ["x-ms-sevsnpvm-is-debuggable"] = false,
            ["x-ms-sevsnpvm-launchmeasurement"] = measurement,
            ["x-ms-runtime"] = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = Hashing.B64Url(operatorEd25519.PublicKey.Export(KeyBlobFormat.RawPublicKey)) }) },
        };
        var input = Hashing.B64Url(Encoding.UTF8.GetBytes("""{"alg":"RS256","kid":"operator","typ":"JWT"}""")) + "." + Hashing.B64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var token = input + "." + Hashing.B64Url(operatorRsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var forged = genuine with
        {
            ResultJws = Jws.Sign(record with { AttestationToken = token }, operatorEd25519, StatementTypes.Result),
            AttestationJwks = JsonDocument.Parse(operatorJwks).RootElement.Clone(),
        };

        ResultVerification VerifyUnder(string? pinnedJwks) =>
            ResultVerifier.Verify(forged, production, DateTimeOffset.UtcNow, null, f.Parties["advertiser"], pinnedJwks);

        // Were the bundle's JWKS trusted, the forgery would pass every attestation check: pinning the operator's own keys shows it.
        var trustingTheOperator = VerifyUnder(operatorJwks);
        Assert.All(new[] { "attestation token", "enclave measurement", "result signature" }, name => Assert.Contains(trustingTheOperator.Checks, c => c.Name == name && c.Passed));

        // Without pinned keys a production policy does not take the bundle's word.
        var unpinned = VerifyUnder(null);
        Assert.False(unpinned.IsValid);
        Assert.Contains(unpinned.Checks, c => c.Name == "attestation token" && !c.Passed && c.Detail.Contains("--jwks", StringComparison.Ordinal));
        Assert.Contains(unpinned.Checks, c => c.Name == "result signature" && !c.Passed);

        // Under the authority's real keys (here the server's local authority) the operator's token does not verify.
        var pinned = VerifyUnder(genuine.AttestationJwks.GetRawText());
        Assert.False(pinned.IsValid);
        Assert.Contains(pinned.Checks, c => c.Name == "attestation token" && !c.Passed);
        Assert.Contains(pinned.Checks, c => c.Name == "result signature" && !c.Passed);
    }
}

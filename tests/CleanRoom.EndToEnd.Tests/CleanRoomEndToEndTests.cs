using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using DuckDB.NET.Data;
using Microsoft.Data.Sqlite;

namespace CleanRoom.EndToEnd.Tests;

[Collection(CleanRoomCollection.Name)]
public sealed class CleanRoomEndToEndTests(CleanRoomFixture f)
{
    private static AttestationPolicy SimulatedPolicy() => AttestationPolicy.Load(Path.Combine(Processes.Policies, "simulated.json")).Policy!;

    private async Task<ResultBundle> FetchAsync(string jobId)
    {
        using var api = f.Api("advertiser");
        return await api.GetAsync<ResultBundle>($"api/jobs/{jobId}/result", default);
    }

    [Fact]
    public async Task An_approved_computation_runs_in_the_enclave_and_its_result_verifies_offline()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.True(job.State == "finished", $"job {job.State}: {job.Reason}\n{f.EnclaveOutput}");
        var bundle = await FetchAsync(job.Id);
        var verification = ResultVerifier.Verify(bundle, SimulatedPolicy(), DateTimeOffset.UtcNow, recipient: f.Parties["advertiser"]);
        Assert.True(verification.IsValid, string.Join("\n", verification.Checks.Where(c => !c.Passed).Select(c => c.Name + ": " + c.Detail)));
        Assert.True(verification.Simulated);
        var record = verification.Record!;
        var output = verification.Output!;
        Assert.Equal(["campaign", "category", "conversions", "revenue"], record.Columns);
        Assert.Equal(record.Columns, output.Columns);
        Assert.NotEmpty(output.Rows);
        Assert.Equal(record.RowCount, output.Rows.Count);
        // The small 'spring-vip' campaign is suppressed, and the record does not count it: a count of suppressed groups would
        // tell whether a group below k exists (with WHERE email = 'target…', whether that person is in the data).
        Assert.DoesNotContain(output.Rows, r => r[0].GetString() == "spring-vip");
        Assert.Equal(0, record.Privacy.SuppressedGroups);
    }

    [Fact]
    public async Task Without_a_recipient_key_the_output_check_fails_closed()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        var verification = ResultVerifier.Verify(await FetchAsync(job.Id), SimulatedPolicy(), DateTimeOffset.UtcNow);
        Assert.False(verification.IsValid);
        Assert.Null(verification.Output);
        var output = Assert.Single(verification.Checks, c => c.Name == "output");
        Assert.False(output.Passed);
        Assert.Equal("encrypted to advertiser; pass --as RECIPIENT to decrypt and check it", output.Detail);
        Assert.All(verification.Checks.Where(c => c.Name != "output"), c => Assert.True(c.Passed, c.Name + ": " + c.Detail));
    }

    [Fact]
    public async Task A_party_that_is_not_a_recipient_cannot_open_the_output()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        var bundle = await FetchAsync(job.Id);
        var retailer = ResultVerifier.Verify(bundle, SimulatedPolicy(), DateTimeOffset.UtcNow, recipient: f.Parties["retailer"]);
        Assert.False(retailer.IsValid);
        Assert.Null(retailer.Output);
        Assert.Contains("not a recipient", retailer.Checks.Single(c => c.Name == "output").Detail, StringComparison.Ordinal);

        // Even renamed as the recipient, the retailer's key does not open the advertiser's ciphertext.
        var record = retailer.Record!;
        Assert.Null(record.TryOpenOutput("advertiser", f.Parties["retailer"].EncryptionKey, out var reason));
        Assert.Contains("hpke.open_failed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bundle_whose_ciphertext_was_swapped_with_another_jobs_fails_the_output_check()
    {
        var first = await FetchAsync((await f.RunAndWaitAsync(CleanRoomFixture.ComputationId)).Id);
        var second = await FetchAsync((await f.RunAndWaitAsync(CleanRoomFixture.ComputationId)).Id);
        var firstRecord = Decode(first);
        var secondRecord = Decode(second);

        // The signed record of the first job, carrying the second job's ciphertext: the signature
        // breaks, and even read as-is the ciphertext does not open under the first job's info.
        var swapped = firstRecord with { Outputs = secondRecord.Outputs };
        Assert.Null(swapped.TryOpenOutput("advertiser", f.Parties["advertiser"].EncryptionKey, out var reason));
        Assert.Contains("hpke.open_failed", reason, StringComparison.Ordinal);

        var parts = first.ResultJws.Split('.');
        var forged = first with { ResultJws = parts[0] + "." + Hashing.B64Url(CanonicalJson.Serialize(swapped)) + "." + parts[2] };
        var verification = ResultVerifier.Verify(forged, SimulatedPolicy(), DateTimeOffset.UtcNow, recipient: f.Parties["advertiser"]);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "output" && !c.Passed);
        Assert.Contains(verification.Checks, c => c.Name == "result signature" && !c.Passed);
    }

    [Fact]
    public async Task The_server_stores_only_ciphertext_of_the_result_rows()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        string jws;
        using (var c = new SqliteConnection($"Data Source={Path.Combine(f.ServerData, "cleanroom.db")}"))
        {
            c.Open();
            using var read = c.CreateCommand();
            read.CommandText = "SELECT result_jws FROM jobs WHERE id = $id";
            read.Parameters.AddWithValue("$id", job.Id);
            jws = (string)read.ExecuteScalar()!;
        }

        var payload = Encoding.UTF8.GetString(Hashing.FromB64Url(jws.Split('.')[1]));
        Assert.Contains("\"outputs\"", payload, StringComparison.Ordinal);
        Assert.DoesNotContain("summer-sale", payload, StringComparison.Ordinal);
        Assert.DoesNotContain("\"rows\"", payload, StringComparison.Ordinal);

        // The same record, opened by the recipient, does hold the campaign.
        var output = Decode(await FetchAsync(job.Id)).TryOpenOutput("advertiser", f.Parties["advertiser"].EncryptionKey, out var reason);
        Assert.True(output is not null, reason);
        Assert.Contains(output.Rows, r => r[0].GetString() == "summer-sale");
    }

    private static ResultRecord Decode(ResultBundle bundle) =>
        Jws.TryDecode(bundle.ResultJws, out var d, out _) ? d!.PayloadAs<ResultRecord>()! : throw new InvalidOperationException("not a JWS");

    [Fact]
    public async Task The_enclave_result_equals_plain_duckdb_with_the_same_threshold()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        var verification = ResultVerifier.Verify(await FetchAsync(job.Id), SimulatedPolicy(), DateTimeOffset.UtcNow, recipient: f.Parties["advertiser"]);
        var output = verification.Output ?? throw new InvalidOperationException(verification.Checks.Single(c => c.Name == "output").Detail);

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        var data = Path.Combine(f.Root, "data");
        cmd.CommandText = $$"""
            CREATE TABLE purchases AS SELECT * FROM read_csv('{{data}}/purchases.csv', header = true, columns = {'customer_id': 'BIGINT', 'category': 'VARCHAR', 'amount': 'DECIMAL(18,2)', 'purchase_date': 'DATE'});
            CREATE TABLE exposures AS SELECT * FROM read_csv('{{data}}/exposures.csv', header = true, columns = {'customer_id': 'BIGINT', 'campaign': 'VARCHAR', 'exposure_date': 'DATE'});
            """;
        cmd.ExecuteNonQuery();
        cmd.CommandText = """
            SELECT e.campaign, p.category, count(*) AS conversions, sum(p.amount) AS revenue
            FROM exposures AS e JOIN purchases AS p ON e.customer_id = p.customer_id
            WHERE p.purchase_date >= e.exposure_date
            GROUP BY e.campaign, p.category
            HAVING count(DISTINCT e.customer_id) >= 10 AND count(DISTINCT p.customer_id) >= 10
            ORDER BY e.campaign, p.category
            """;
        var expected = new List<string>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                expected.Add($"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetValue(2)}|{reader.GetDecimal(3)}");
            }
        }

        var actual = output.Rows.Select(r => $"{r[0].GetString()}|{r[1].GetString()}|{r[2].GetRawText()}|{r[3].GetDecimal()}").ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_tampered_result_bundle_fails_verification()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        var bundle = await FetchAsync(job.Id);
        var parts = bundle.ResultJws.Split('.');
        var payload = Encoding.UTF8.GetString(Hashing.FromB64Url(parts[1]));
        var forgedPayload = payload.Replace("\"rowCount\":", "\"rowCount\":1", StringComparison.Ordinal);
        Assert.NotEqual(payload, forgedPayload);
        var forged = bundle with { ResultJws = parts[0] + "." + Hashing.B64Url(Encoding.UTF8.GetBytes(forgedPayload)) + "." + parts[2] };
        var verification = ResultVerifier.Verify(forged, SimulatedPolicy(), DateTimeOffset.UtcNow);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "result signature" && !c.Passed);

        var otherComputation = bundle with { Computation = bundle.Computation with { Sql = bundle.Computation.Sql + " " } };
        Assert.Contains(ResultVerifier.Verify(otherComputation, SimulatedPolicy(), DateTimeOffset.UtcNow).Checks, c => c.Name == "computation approved" && !c.Passed);
    }

    [Fact]
    public async Task A_simulated_result_is_refused_under_the_production_policy()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        var production = AttestationPolicy.Load(Path.Combine(Processes.Policies, "production-sevsnp.json")).Policy!;
        var verification = ResultVerifier.Verify(await FetchAsync(job.Id), production, DateTimeOffset.UtcNow);
        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "attestation token" && !c.Passed);
    }

    [Fact]
    public async Task The_audit_log_records_every_step_and_verifies()
    {
        var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
        Assert.Equal("finished", job.State);
        var log = await f.AuditAsync();
        var verification = AuditVerifier.Verify(log, null);
        Assert.True(verification.IsValid, verification.Reason);
        var actions = log.Entries.Select(e => e.Action).ToHashSet();
        foreach (var expected in new[] { "contract.drafted", "contract.signed", "contract.activated", "dataset.key_created", "dataset.published", "computation.proposed", "computation.approved", "job.queued", "job.started", "key.release", "job.keys_released", "job.finished" })
        {
            Assert.Contains(expected, actions);
        }
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("swap")]
    public async Task Tampered_ciphertext_is_refused_and_audited(string tamper)
    {
        ContractView view;
        using (var manager = f.Api("manager"))
        {
            view = await manager.GetAsync<ContractView>($"api/contracts/{f.Contract.Id}", default);
        }

        var blob = Path.Combine(f.ServerData, "blobs", view.Datasets.First(d => d.Name == "purchases").CiphertextSha256 + ".cre");
        var original = await File.ReadAllBytesAsync(blob);
        try
        {
            var bytes = original.ToArray();
            switch (tamper)
            {
                case "flip":
                    bytes[bytes.Length / 2] ^= 0x01;
                    break;
                case "truncate":
                    bytes = bytes[..(bytes.Length - 100)];
                    break;
                case "swap":
                    // The fixture publishes with 16 KiB chunks: swap the first two equal-sized chunk records.
                    var header = EnvelopeLayout.HeaderLength(original);
                    var record = EnvelopeLayout.ChunkRecordLength(original);
                    Assert.True(bytes.Length > header + (2 * record), "dataset must have at least two full chunks");
                    original.AsSpan(header, record).CopyTo(bytes.AsSpan(header + record));
                    original.AsSpan(header + record, record).CopyTo(bytes.AsSpan(header));
                    break;
            }

            await File.WriteAllBytesAsync(blob, bytes);
            var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
            Assert.Equal("refused", job.State);
            Assert.StartsWith("envelope.", job.ReasonCode, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', job.Reason!);
            var log = await f.AuditAsync();
            Assert.Contains(log.Entries, e => e.Target == "job/" + job.Id && e.Action == "job.refused" && e.ReasonCode == job.ReasonCode);
        }
        finally
        {
            await File.WriteAllBytesAsync(blob, original);
        }
    }

    [Fact]
    public async Task Sql_edited_after_approval_is_refused_by_the_enclave_and_audited()
    {
        var db = Path.Combine(f.ServerData, "cleanroom.db");
        string original;
        using (var c = new SqliteConnection($"Data Source={db}"))
        {
            c.Open();
            using var read = c.CreateCommand();
            read.CommandText = "SELECT document FROM computations WHERE id = $id";
            read.Parameters.AddWithValue("$id", CleanRoomFixture.ComputationId);
            original = (string)read.ExecuteScalar()!;
            using var write = c.CreateCommand();
            write.CommandText = "UPDATE computations SET document = $d WHERE id = $id";
            write.Parameters.AddWithValue("$d", original.Replace("count(*) AS conversions", "count(DISTINCT p.category) AS conversions", StringComparison.Ordinal));
            write.Parameters.AddWithValue("$id", CleanRoomFixture.ComputationId);
            Assert.Equal(1, write.ExecuteNonQuery());
        }

        try
        {
            // Edited alone, the document no longer matches the server's hash: the analyst's CLI refuses to sign a run of it.
            using (var analyst = f.Api("advertiser"))
            {
                var mismatch = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(analyst, CleanRoomFixture.ComputationId, new Dictionary<string, string>(), default));
                Assert.Equal("computation.hash_mismatch", mismatch.Code);
            }

            // An operator who also rewrites the stored hash gets a run signed for the edited document; the enclave still
            // refuses it, because the approvals were signed over the original hash.
            using (var c = new SqliteConnection($"Data Source={db}"))
            {
                c.Open();
                using var read = c.CreateCommand();
                read.CommandText = "SELECT document FROM computations WHERE id = $id";
                read.Parameters.AddWithValue("$id", CleanRoomFixture.ComputationId);
                var edited = System.Text.Json.JsonSerializer.Deserialize<ComputationDocument>((string)read.ExecuteScalar()!, CanonicalJson.SerializerOptions)!;
                using var rehash = c.CreateCommand();
                rehash.CommandText = "UPDATE computations SET hash = $h WHERE id = $id";
                rehash.Parameters.AddWithValue("$h", edited.Hash());
                rehash.Parameters.AddWithValue("$id", CleanRoomFixture.ComputationId);
                Assert.Equal(1, rehash.ExecuteNonQuery());
            }

            var job = await f.RunAndWaitAsync(CleanRoomFixture.ComputationId);
            Assert.Equal("refused", job.State);
            Assert.Equal("computation.not_approved", job.ReasonCode);
            Assert.Contains("changed after approval", job.Reason, StringComparison.Ordinal);
            Assert.Contains((await f.AuditAsync()).Entries, e => e.Target == "job/" + job.Id && e.Action == "job.refused");
        }
        finally
        {
            using var c = new SqliteConnection($"Data Source={db}");
            c.Open();
            using var restore = c.CreateCommand();
            restore.CommandText = "UPDATE computations SET document = $d, hash = $h WHERE id = $id";
            restore.Parameters.AddWithValue("$d", original);
            restore.Parameters.AddWithValue("$h", System.Text.Json.JsonSerializer.Deserialize<ComputationDocument>(original, CanonicalJson.SerializerOptions)!.Hash());
            restore.Parameters.AddWithValue("$id", CleanRoomFixture.ComputationId);
            restore.ExecuteNonQuery();
        }
    }

    [Fact]
    public async Task A_computation_not_approved_by_every_owner_cannot_run()
    {
        using (var advertiser = f.Api("advertiser"))
        {
            await PartyOperations.ProposeAsync(advertiser, f.Computation("half-approved", "SELECT p.category, count(*) AS n FROM purchases AS p GROUP BY p.category"), default);
        }

        using (var manager = f.Api("manager"))
        {
            await PartyOperations.VoteAsync(manager, "half-approved", VoteStatement.Approve, default);
        }

        using var analyst = f.Api("advertiser");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(analyst, "half-approved", new Dictionary<string, string>(), default));
        Assert.Equal("computation.not_approved", ex.Code);
        Assert.Contains("retailer", ex.Message, StringComparison.Ordinal);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.Target == "computation/half-approved" && e.Action == "job.queued" && e.Outcome == "refused");
    }

    [Fact]
    public async Task A_party_outside_the_contract_cannot_run_and_is_audited()
    {
        using var mallory = f.Api("mallory");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(mallory, CleanRoomFixture.ComputationId, new Dictionary<string, string>(), default));
        Assert.Equal("auth.not_a_party", ex.Code);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.ReasonCode == "auth.not_a_party" && e.Target == "computation/" + CleanRoomFixture.ComputationId);
    }

    [Fact]
    public async Task A_party_without_the_analyst_role_cannot_run()
    {
        using var retailer = f.Api("retailer");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.RunAsync(retailer, CleanRoomFixture.ComputationId, new Dictionary<string, string>(), default));
        Assert.Equal("auth.role_required", ex.Code);
    }

    [Fact]
    public async Task A_malformed_contract_file_is_refused_by_the_server_and_audited()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        var body = Encoding.UTF8.GetBytes("{\"id\": \"broken\", \"parties\": 42");
        using var request = RequestAuthenticationTests.Signed(f.Parties["manager"], HttpMethod.Post, "api/contracts", body);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Problem>(CanonicalJson.SerializerOptions);
        Assert.Equal("contract.malformed", problem!.Code);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.ReasonCode == "contract.malformed");

        using var manager = f.Api("manager");
        var ex = await Assert.ThrowsAsync<CliException>(() => PartyOperations.DraftContractAsync(manager, body, default));
        Assert.Equal("contract.malformed", ex.Code);
    }

    [Fact]
    public async Task An_active_contract_is_not_signed_again_and_the_refusal_is_audited()
    {
        // The fixture's contract is active: a new signature changes nothing, and the log must not say "signed" of it.
        var before = (await f.AuditAsync()).Entries.Count;
        using var retailer = f.Api("retailer");
        var refused = await Assert.ThrowsAsync<CliException>(() => PartyOperations.SignContractAsync(retailer, f.Contract.Id, default));

        Assert.Equal("contract.not_proposed", refused.Code);
        var entries = (await f.AuditAsync()).Entries.Skip(before).ToList();
        Assert.Contains(entries, e => e.Action == "contract.signed" && e.Outcome == "refused" && e.ReasonCode == "contract.not_proposed" && e.Actor == "retailer");
        Assert.DoesNotContain(entries, e => e.Action == "contract.signed" && e.Outcome == "ok");

        // The party's own signature sent again (a retry after a lost answer) is answered with the state and writes nothing.
        var view = await retailer.GetAsync<ContractView>($"api/contracts/{f.Contract.Id}", default);
        var mine = Assert.Single(view.Signatures, s => s.Party == "retailer");
        var count = (await f.AuditAsync()).Entries.Count;
        var retry = await retailer.PostAsync<JsonAck>($"api/contracts/{f.Contract.Id}/signatures", new VoteRequest(mine.Jws), default);
        Assert.Equal("active", retry.State);
        Assert.Equal(count, (await f.AuditAsync()).Entries.Count);
    }

    [Fact]
    public async Task A_replayed_request_is_refused()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        var path = $"api/contracts/{f.Contract.Id}";
        using var first = RequestAuthenticationTests.Signed(f.Parties["retailer"], HttpMethod.Get, path, []);
        using var replay = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var h in first.Headers)
        {
            replay.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        using (var ok = await http.SendAsync(first))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await http.SendAsync(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("auth.replayed_request", (await refused.Content.ReadFromJsonAsync<Problem>(CanonicalJson.SerializerOptions))!.Code);
    }

    [Theory]
    [InlineData("other-issuer")]
    [InlineData("wrong-signature")]
    [InlineData("alg-none")]
    public async Task A_forged_attestation_token_gets_no_key_and_is_audited(string kind)
    {
        using var manager = f.Api("manager");
        var view = await manager.GetAsync<ContractView>($"api/contracts/{f.Contract.Id}", default);
        var dataset = view.Datasets.First(d => d.Name == "purchases");
        var token = ForgedToken(kind);
        using var http = new HttpClient { BaseAddress = f.Server };
        var before = (await f.AuditAsync()).Entries.Count;
        using var response = await http.PostAsync(
            $"keys/{dataset.KeyName}/{dataset.KeyVersion}/release?api-version=7.4",
            new StringContent(JsonSerializer.Serialize(new { target = token, nonce = "n-123", enc = "RSA_AES_KEY_WRAP_256" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("key_hsm", body, StringComparison.Ordinal);
        var entries = (await f.AuditAsync()).Entries.Skip(before).ToList();
        Assert.Contains(entries, e => e.Action == "key.release" && e.Outcome == "refused");

        using var claim = new HttpRequestMessage(HttpMethod.Post, "api/enclave/jobs/claim");
        claim.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var claimResponse = await http.SendAsync(claim);
        Assert.Equal(HttpStatusCode.Unauthorized, claimResponse.StatusCode);
    }

    private string ForgedToken(string kind)
    {
        using var rsa = RSA.Create(2048);
        using var doc = JsonDocument.Parse(new HttpClient { BaseAddress = f.Server }.GetStringAsync("certs").Result);
        var realKid = doc.RootElement.GetProperty("keys")[0].GetProperty("kid").GetString();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var issuer = kind == "other-issuer" ? "https://attacker.example" : SimulatedPolicy().Issuer;
        var header = kind == "alg-none" ? "{\"alg\":\"none\",\"typ\":\"JWT\"}" : $"{{\"alg\":\"RS256\",\"kid\":\"{realKid}\",\"typ\":\"JWT\"}}";
        var p = rsa.ExportParameters(false);
        var payload = $"{{\"iss\":\"{issuer}\",\"iat\":{now},\"nbf\":{now},\"exp\":{now + 3600},\"x-ms-attestation-type\":\"sevsnpvm\",\"x-ms-sevsnpvm-is-debuggable\":false,\"x-ms-sevsnpvm-launchmeasurement\":\"{Convert.ToHexStringLower(SimulatedAmdPlatform.SimulatedLaunchMeasurement)}\",\"x-cleanroom-simulated\":true,\"x-ms-runtime\":{{\"keys\":[{{\"kty\":\"RSA\",\"kid\":\"k\",\"key_ops\":[\"encrypt\"],\"n\":\"{Hashing.B64Url(p.Modulus)}\",\"e\":\"{Hashing.B64Url(p.Exponent)}\"}}]}}}}";
        var input = Hashing.B64Url(Encoding.UTF8.GetBytes(header)) + "." + Hashing.B64Url(Encoding.UTF8.GetBytes(payload));
        if (kind == "alg-none")
        {
            return input + ".";
        }

        return input + "." + Hashing.B64Url(rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// Request edge cases from an adversarial review of the API: signed uploads whose unsigned header is swapped, timestamps
/// at the edge of long overflow, replays under other spellings of the path, parties of other contracts or of other
/// datasets, and result fetches after termination.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class RequestEdgeCaseTests(CleanRoomFixture f)
{
    private Task<(HttpStatusCode Status, string Code)> SendAsync(HttpRequestMessage request) => RequestAuthenticationTests.SendAsync(f.Server, request);

    private static HttpRequestMessage SignedRaw(PartyKeys party, HttpMethod method, string sentPath, string signedPath, byte[] body, long timestamp, string nonce) =>
        RequestAuthenticationTests.Signed(party, method, sentPath, body, timestamp, nonce: nonce, signedPath: signedPath);

    private static string NewNonce() => RequestAuthenticationTests.NewNonce();

    /// <summary>A one-party contract (manager + data provider) of its own, active, with its dataset key created.</summary>
    private async Task<(string Id, PartyKeys Owner)> OwnContractWithKeyAsync()
    {
        var id = "edge-" + Guid.NewGuid().ToString("N")[..8];
        var owner = PartyKeys.Create("owner");
        var contract = new ContractDocument
        {
            Id = id,
            Title = "request edge cases",
            Parties = [new ContractParty("owner", [Roles.ContractManager, Roles.DataProvider], owner.Identity.SigningKey, owner.Identity.EncryptionKey)],
            Datasets = [new DatasetDeclaration { Name = "purchases", Owner = "owner", Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR")], PrivacyUnit = "customer_id", JoinColumns = ["customer_id"] }],
            ValidFrom = DateTimeOffset.UtcNow.AddDays(-1),
            ValidUntil = DateTimeOffset.UtcNow.AddDays(1),
            AttestationPolicy = "simulated",
        };
        using var api = new ApiClient(f.Server, owner);
        await PartyOperations.DraftContractAsync(api, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
        await PartyOperations.SignContractAsync(api, id, default);
        await api.PostAsync<DatasetKeyView>($"api/contracts/{id}/datasets/purchases/key", null, default);
        return (id, owner);
    }

    private static HttpRequestMessage SignedPublish(PartyKeys owner, string path, byte[] ciphertext, string wrappedKeyHeader)
    {
        var sha = Hashing.Sha256Hex(ciphertext);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var nonce = NewNonce();
        var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new ByteArrayContent(ciphertext) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add(RequestSignature.KeyIdHeader, owner.Id);
        request.Headers.Add(RequestSignature.TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(RequestSignature.NonceHeader, nonce);
        request.Headers.Add(RequestSignature.ContentSha256Header, sha);
        request.Headers.Add(RequestSignature.SignatureHeader, RequestSignature.Sign(owner.SigningKey, "PUT", "/" + path, sha, ts, nonce));
        request.Headers.Add("CleanRoom-Wrapped-Key", wrappedKeyHeader);
        return request;
    }

    /// <summary>
    /// The wrapped data key travels in a header the request signature does not cover; the signed query names its digest,
    /// so a key swapped in transit, or an upload that does not name it, is refused and audited.
    /// </summary>
    [Fact]
    public async Task A_wrapped_key_swapped_after_signing_or_not_named_in_the_signed_query_is_refused()
    {
        var (id, owner) = await OwnContractWithKeyAsync();
        using (owner)
        {
            var path = $"api/contracts/{id}/datasets/purchases/ciphertext";
            var ciphertext = RandomNumberGenerator.GetBytes(4096);
            var genuine = RandomNumberGenerator.GetBytes(384);
            var named = $"{path}?wrappedKeySha256={Hashing.Sha256Hex(genuine)}";

            using (var swapped = SignedPublish(owner, named, ciphertext, Hashing.B64Url(RandomNumberGenerator.GetBytes(384))))
            {
                Assert.Equal((HttpStatusCode.BadRequest, "dataset.bad_wrapped_key"), await SendAsync(swapped));
            }

            using (var unnamed = SignedPublish(owner, path, ciphertext, Hashing.B64Url(genuine)))
            {
                Assert.Equal((HttpStatusCode.BadRequest, "dataset.bad_wrapped_key"), await SendAsync(unnamed));
            }

            using (var signed = SignedPublish(owner, named, ciphertext, Hashing.B64Url(genuine)))
            {
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(signed)).Status);
            }

            var refusals = (await f.AuditAsync()).Entries.Count(e => e.Target == $"dataset/{id}/purchases" && e.ReasonCode == "dataset.bad_wrapped_key");
            Assert.Equal(2, refusals);
        }
    }

    /// <summary>
    /// The timestamp check computes Math.Abs(now - timestamp) on longs: a timestamp with now - timestamp == long.MinValue
    /// throws OverflowException, answered 500 server.error with no audit entry, instead of 401 auth.stale_request.
    /// </summary>
    [Fact]
    public async Task A_timestamp_at_the_edge_of_long_overflow_is_refused_as_stale()
    {
        var party = f.Parties["retailer"];
        var path = $"api/contracts/{f.Contract.Id}";
        var results = new List<string>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var delta = -1; delta <= 2; delta++)
        {
            var ts = unchecked(now + delta - long.MinValue);
            using var request = SignedRaw(party, HttpMethod.Get, path, "/" + path, [], ts, NewNonce());
            var (status, code) = await SendAsync(request);
            results.Add($"{ts}: {(int)status} {code}");
        }

        Assert.All(results, r => Assert.EndsWith("401 auth.stale_request", r, StringComparison.Ordinal));
    }

        [Fact]
    public async Task A_replay_of_a_signed_request_is_refused_even_with_a_differently_spelled_path()
    {
        var party = f.Parties["retailer"];
        var path = $"api/contracts/{f.Contract.Id}";
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var nonce = NewNonce();
        using (var first = SignedRaw(party, HttpMethod.Get, path, "/" + path, [], ts, nonce))
        {
            Assert.Equal((HttpStatusCode.OK, "ok"), await SendAsync(first));
        }

        using (var again = SignedRaw(party, HttpMethod.Get, path, "/" + path, [], ts, nonce))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "auth.replayed_request"), await SendAsync(again));
        }

        // Percent-encoded spelling of the same path: decodes to the signed path, but the nonce is spent.
        var encoded = $"api/contracts/%65{f.Contract.Id[1..]}";
        using (var enc = SignedRaw(party, HttpMethod.Get, encoded, "/" + path, [], ts, nonce))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "auth.replayed_request"), await SendAsync(enc));
        }

        // Same signature, other method / trailing slash / other path: the signature does not verify.
        using (var post = SignedRaw(party, HttpMethod.Get, path + "/", "/" + path, [], ts, NewNonce()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(post)).Status);
        }

        using (var other = SignedRaw(party, HttpMethod.Get, path + "/consent", "/" + path, [], ts, NewNonce()))
        {
            Assert.Equal((HttpStatusCode.Unauthorized, "auth.bad_signature"), await SendAsync(other));
        }
    }

    /// <summary>
    /// A dataset name in the path that no dataset can have (a newline, a bidirectional override) named nothing, yet it was
    /// echoed into a two-line refusal reason and into audit targets, even of an unsigned request.
    /// </summary>
    [Fact]
    public async Task A_dataset_path_that_no_name_can_have_is_not_found_and_never_echoed()
    {
        var before = (await f.AuditAsync()).Entries.Count;
        using var http = new HttpClient { BaseAddress = f.Server };
        var forged = "x%0Aforged%E2%80%AEy";
        using var unsigned = new HttpRequestMessage(HttpMethod.Put, $"api/contracts/{f.Contract.Id}/datasets/{forged}/ciphertext") { Content = new ByteArrayContent([1]) };
        using var byStranger = RequestAuthenticationTests.Signed(f.Parties["mallory"], HttpMethod.Post, $"api/contracts/{f.Contract.Id}/datasets/{forged}/key", [], signedPath: $"/api/contracts/{f.Contract.Id}/datasets/x\nforged\u202Ey/key");
        foreach (var request in new[] { unsigned, byStranger })
        {
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("dataset.not_found", text, StringComparison.Ordinal);
            Assert.DoesNotContain("forged", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain((await f.AuditAsync()).Entries.Skip(before), e => CleanRoomFixture.Mentions(e, "forged"));
    }

    [Theory]
    [InlineData("x%0Aforged%E2%80%AEy", "0123456789abcdef0123456789abcdef")]
    [InlineData("retail--purchases", "v%0Aforged")]
    public async Task A_key_release_path_that_no_key_can_have_is_not_found_and_never_echoed(string name, string version)
    {
        var before = (await f.AuditAsync()).Entries.Count;
        using var http = new HttpClient { BaseAddress = f.Server };
        using var response = await http.PostAsync($"keys/{name}/{version}/release?api-version=7.4", new StringContent("{}", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("key.not_found", text, StringComparison.Ordinal);
        Assert.DoesNotContain("forged", text, StringComparison.Ordinal);
        Assert.DoesNotContain((await f.AuditAsync()).Entries.Skip(before), e => CleanRoomFixture.Mentions(e, "forged"));
    }

    [Fact]
    public async Task A_party_of_another_contract_cannot_vote_fetch_or_publish_here()
    {
        var (id, owner) = await OwnContractWithKeyAsync();
        using (owner)
        using (var api = new ApiClient(f.Server, owner))
        {
            // Owner is a contract manager and data provider in its own contract, not in the fixture's.
            var vote = new VoteStatement(f.Contract.Id, CleanRoomFixture.ComputationId, "x", "manager", VoteStatement.Approve, DateTimeOffset.UtcNow);
            var ex = await Assert.ThrowsAsync<CliException>(() => api.PostAsync<JsonAck>($"api/computations/{CleanRoomFixture.ComputationId}/votes", new VoteRequest(Jws.Sign(vote, owner.SigningKey, StatementTypes.Vote)), default));
            Assert.Equal("auth.not_a_party", ex.Code);
            // Naming a computation (or a job) does not tell a stranger which contract holds it.
            Assert.DoesNotContain(f.Contract.Id, ex.Message, StringComparison.Ordinal);
            Assert.Contains($"computation/{CleanRoomFixture.ComputationId}", ex.Message, StringComparison.Ordinal);
            ex = await Assert.ThrowsAsync<CliException>(() => api.PostAsync<DatasetKeyView>($"api/contracts/{f.Contract.Id}/datasets/purchases/key", null, default));
            Assert.Equal("auth.not_a_party", ex.Code);
            ex = await Assert.ThrowsAsync<CliException>(() => api.PostAsync<JsonAck>($"api/contracts/{f.Contract.Id}/consent/revoke", new { scope = "dataset", target = "purchases" }, default));
            Assert.Equal("auth.not_a_party", ex.Code);

            // Its own contract id in the path, the fixture's computation in the body: refused as not part of this contract.
            ex = await Assert.ThrowsAsync<CliException>(() => api.PostAsync<JsonAck>($"api/contracts/{id}/consent/revoke", new { scope = "computation", target = CleanRoomFixture.ComputationId }, default));
            Assert.Equal("computation.not_found", ex.Code);
        }
    }

    [Fact]
    public async Task The_publisher_binds_its_envelope_only_to_a_contract_that_declares_the_dataset_as_its_own()
    {
        // The envelope's dataset id names the contract's id and hash. A server that shows the provider a contract of its own
        // making (the dataset owned by someone else, or content that does not hash to the hash it claims) is refused.
        using var api = f.Api("retailer");
        var view = await api.GetAsync<ContractView>($"api/contracts/{f.Contract.Id}", default);
        var retailer = f.Parties["retailer"];
        Assert.Equal(view.Contract, PartyOperations.ContractToBindTo(view, f.Contract.Id, "purchases", retailer));

        var operators = view.Contract with { Datasets = [.. view.Contract.Datasets.Select(d => d.Name == "purchases" ? d with { Owner = "advertiser" } : d)] };
        var notOwner = Assert.Throws<CliException>(() => PartyOperations.ContractToBindTo(view with { Contract = operators, Hash = operators.Hash() }, f.Contract.Id, "purchases", retailer));
        Assert.Equal("dataset.not_owner", notOwner.Code);

        var mismatch = Assert.Throws<CliException>(() => PartyOperations.ContractToBindTo(view with { Contract = operators }, f.Contract.Id, "purchases", retailer));
        Assert.Equal("contract.hash_mismatch", mismatch.Code);

        var otherKey = Assert.Throws<CliException>(() => PartyOperations.ContractToBindTo(view, f.Contract.Id, "purchases", f.Parties["advertiser"]));
        Assert.Equal("dataset.not_owner", otherKey.Code);
    }

    [Fact]
    public async Task A_data_provider_cannot_publish_or_revoke_for_another_owners_dataset()
    {
        using var retailer = f.Api("retailer");
        var ex = await Assert.ThrowsAsync<CliException>(() => retailer.PostAsync<DatasetKeyView>($"api/contracts/{f.Contract.Id}/datasets/exposures/key", null, default));
        Assert.Equal("auth.not_owner", ex.Code);
        ex = await Assert.ThrowsAsync<CliException>(() => retailer.PostAsync<JsonAck>($"api/contracts/{f.Contract.Id}/consent/revoke", new { scope = "dataset", target = "exposures" }, default));
        Assert.Equal("auth.not_owner", ex.Code);

        // Case variant of a dataset name: not declared (names are lowercase only).
        ex = await Assert.ThrowsAsync<CliException>(() => retailer.PostAsync<DatasetKeyView>($"api/contracts/{f.Contract.Id}/datasets/Exposures/key", null, default));
        Assert.Equal("dataset.not_found", ex.Code);
    }

    /// <summary>
    /// TerminateContract's own contract says "from the commit on, no computation, vote, run, key release or result for
    /// it", and SECURITY.md says an expired contract refuses results; GET /api/jobs/{id}/result checks no contract state.
    /// </summary>
    [Fact]
    public async Task A_result_is_refused_once_its_contract_is_terminated()
    {
        var id = "edge-term-" + Guid.NewGuid().ToString("N")[..6];
        var parties = new[] { "retailer", "advertiser", "manager" }.ToDictionary(n => n, PartyKeys.Create);
        try
        {
            var contract = CleanRoomFixture.TestContract(id, parties);
            ApiClient Api(string n) => new(f.Server, parties[n]);
            using (var m = Api("manager"))
            {
                await PartyOperations.DraftContractAsync(m, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
            }

            foreach (var n in parties.Keys)
            {
                using var a = Api(n);
                await PartyOperations.SignContractAsync(a, id, default);
            }

            var data = Directory.CreateDirectory(Path.Combine(f.Root, id)).FullName;
            DemoData.WritePurchases(Path.Combine(data, "purchases.csv"), 1200);
            DemoData.WriteExposures(Path.Combine(data, "exposures.csv"), 1200);
            using (var r = Api("retailer"))
            {
                await PartyOperations.PublishDatasetAsync(r, id, "purchases", Path.Combine(data, "purchases.csv"), data, null, default);
            }

            var computation = new ComputationDocument
            {
                Id = id + "-c", ContractId = id, ContractHash = contract.Hash(), Sql = DemoData.ConversionsSql,
                Privacy = new PrivacySpec("aggregate", 10), Recipients = ["advertiser"], ProposedBy = "advertiser",
            };
            using (var a = Api("advertiser"))
            {
                await PartyOperations.PublishDatasetAsync(a, id, "exposures", Path.Combine(data, "exposures.csv"), data, null, default);
                await PartyOperations.ProposeAsync(a, computation, default);
            }

            foreach (var n in parties.Keys)
            {
                using var a = Api(n);
                await PartyOperations.VoteAsync(a, computation.Id, VoteStatement.Approve, default);
            }

            using var adv = Api("advertiser");
            var job = await PartyOperations.RunAsync(adv, computation.Id, new Dictionary<string, string>(), default);
            job = await PartyOperations.WaitAsync(adv, job.Id, TimeSpan.FromMinutes(3), default);
            Assert.Equal("finished", job.State);
            await adv.GetAsync<JsonElement>($"api/jobs/{job.Id}/result", default);

            using (var m = Api("manager"))
            {
                await m.PostAsync<JsonElement>($"api/contracts/{id}/terminate", new { reason = "test" }, default);
            }

            var fetched = await Record.ExceptionAsync(() => adv.GetAsync<JsonElement>($"api/jobs/{job.Id}/result", default));
            Assert.True(fetched is CliException { Code: "contract.not_active" }, "result of a terminated contract's job was served: " + (fetched?.Message ?? "200 OK"));
        }
        finally
        {
            foreach (var k in parties.Values)
            {
                k.Dispose();
            }
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

[Collection(CleanRoomCollection.Name)]
public sealed class RequestAuthenticationTests(CleanRoomFixture f)
{
    private Task<(HttpStatusCode Status, string Code)> SendAsync(HttpRequestMessage request) => SendAsync(f.Server, request);

    /// <summary>Sends <paramref name="request"/>; the status and the problem code ("ok" on success).</summary>
    internal static async Task<(HttpStatusCode Status, string Code)> SendAsync(Uri server, HttpRequestMessage request)
    {
        using var http = new HttpClient { BaseAddress = server };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var problem = response.IsSuccessStatusCode || text.Length == 0 ? null : JsonSerializer.Deserialize<Problem>(text, CanonicalJson.SerializerOptions);
        return (response.StatusCode, problem?.Code ?? "ok");
    }

    /// <summary>
    /// A request to <paramref name="path"/> signed by <paramref name="party"/>; tests can sign another body, timestamp, nonce
    /// or path (<paramref name="signedPath"/>, with its leading slash) than the one sent.
    /// </summary>
    internal static HttpRequestMessage Signed(PartyKeys party, HttpMethod method, string path, byte[] body, long? timestamp = null, byte[]? signedBody = null, string? nonce = null, string? signedPath = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body.Length > 0)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        var ts = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        nonce ??= NewNonce();
        var sha = Hashing.Sha256Hex(signedBody ?? body);
        request.Headers.Add(RequestSignature.KeyIdHeader, party.Id);
        request.Headers.Add(RequestSignature.TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(RequestSignature.NonceHeader, nonce);
        request.Headers.Add(RequestSignature.SignatureHeader, RequestSignature.Sign(party.SigningKey, method.Method, signedPath ?? "/" + path, sha, ts, nonce));
        return request;
    }

    internal static string NewNonce() => Hashing.B64Url(RandomNumberGenerator.GetBytes(18));

    [Fact]
    public async Task A_stale_request_is_refused_and_audited()
    {
        using var request = Signed(f.Parties["retailer"], HttpMethod.Get, $"api/contracts/{f.Contract.Id}", [], DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds());
        var (status, code) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("auth.stale_request", code);
        Assert.Contains((await f.AuditAsync()).Entries, e => e.ReasonCode == "auth.stale_request" && e.Actor == "retailer");
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_refused()
    {
        var signed = Encoding.UTF8.GetBytes("{\"parameters\":{}}");
        var sent = Encoding.UTF8.GetBytes("{\"parameters\":{\"x\":\"1\"}}");
        using var request = Signed(f.Parties["advertiser"], HttpMethod.Post, $"api/computations/{CleanRoomFixture.ComputationId}/jobs", sent, signedBody: signed);
        var (status, code) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("auth.bad_signature", code);
    }

    [Fact]
    public async Task A_forged_request_is_not_audited_in_the_name_of_the_party_whose_key_id_it_names()
    {
        // Anyone can read a party's key id (it is the hash of a public key in the contract); a request that names it but
        // does not verify was not sent by that party, fresh or stale, so the audit log must not say it was.
        var before = (await f.AuditAsync()).Entries.Count;
        using var forger = PartyKeys.Create("retailer");
        foreach (var timestamp in new long?[] { null, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds() })
        {
            using var request = Signed(forger, HttpMethod.Get, $"api/contracts/{f.Contract.Id}", [], timestamp);
            request.Headers.Remove(RequestSignature.KeyIdHeader);
            request.Headers.Add(RequestSignature.KeyIdHeader, f.Parties["retailer"].Id);
            Assert.Equal((HttpStatusCode.Unauthorized, "auth.bad_signature"), await SendAsync(request));
        }

        var entries = (await f.AuditAsync()).Entries.Skip(before).Where(e => e.Action == "request.refused").ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal("auth.bad_signature", e.ReasonCode));
        Assert.All(entries, e => Assert.NotEqual("retailer", e.Actor));
    }

    [Fact]
    public async Task An_unsigned_request_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/contracts/{f.Contract.Id}");
        var (status, code) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("auth.missing_signature", code);
    }

    [Fact]
    public async Task A_signature_by_a_key_outside_the_contract_is_refused()
    {
        using var request = Signed(f.Parties["mallory"], HttpMethod.Get, $"api/contracts/{f.Contract.Id}", []);
        var (status, code) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("auth.not_a_party", code);
    }
}

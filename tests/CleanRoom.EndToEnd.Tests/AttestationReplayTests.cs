using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Core;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>The local attestation authority over loopback: a captured attest request cannot be replayed for a fresh token.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class AttestationReplayTests(CleanRoomFixture fixture)
{
    private static object AttestBody(SimulatedAmdPlatform platform, byte[] runtimeData, string? nonce)
    {
        var reportData = new byte[64];
        SHA256.HashData(runtimeData, reportData);
        var report = platform.CreateReport(new SimulatedReportRequest { ReportData = reportData, Measurement = SimulatedAmdPlatform.SimulatedLaunchMeasurement });
        var inner = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["SnpReport"] = Hashing.B64Url(report),
            ["VcekCertChain"] = Hashing.B64Url(Encoding.UTF8.GetBytes(platform.CertChainPem)),
        });
        var body = new Dictionary<string, object>
        {
            ["report"] = Hashing.B64Url(inner),
            ["runtimeData"] = new Dictionary<string, string> { ["data"] = Hashing.B64Url(runtimeData), ["dataType"] = "JSON" },
        };
        if (nonce is not null)
        {
            body["nonce"] = nonce;
        }

        return body;
    }

    [Fact]
    public async Task Replayed_attest_request_is_refused_and_audited()
    {
        using var platform = SimulatedAmdPlatform.Load(Path.Combine(fixture.Root, "sim-amd"));
        using var http = new HttpClient { BaseAddress = fixture.Server };
        var body = AttestBody(platform, Encoding.UTF8.GetBytes("{\"keys\":[]}"), "replay-" + Guid.NewGuid().ToString("N"));

        using var first = await http.PostAsJsonAsync("attest/SevSnpVm?api-version=2022-08-01", body);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var replay = await http.PostAsJsonAsync("attest/SevSnpVm?api-version=2022-08-01", body);
        var text = await replay.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains(AttestErrorCodes.NonceReplayed, text, StringComparison.Ordinal);
        var audit = await fixture.AuditAsync();
        Assert.Contains(audit.Entries, e => e.Action == "attestation.refused" && e.ReasonCode == AttestErrorCodes.NonceReplayed);
    }

    [Fact]
    public async Task Attest_request_without_nonce_is_refused()
    {
        using var platform = SimulatedAmdPlatform.Load(Path.Combine(fixture.Root, "sim-amd"));
        using var http = new HttpClient { BaseAddress = fixture.Server };

        using var response = await http.PostAsJsonAsync("attest/SevSnpVm?api-version=2022-08-01", AttestBody(platform, Encoding.UTF8.GetBytes("{\"keys\":[]}"), nonce: null));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(AttestErrorCodes.NonceRequired, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

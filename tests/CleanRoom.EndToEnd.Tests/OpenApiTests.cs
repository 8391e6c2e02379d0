using System.Text.Json;

namespace CleanRoom.EndToEnd.Tests;

[Collection(CleanRoomCollection.Name)]
public sealed class OpenApiTests(CleanRoomFixture f)
{
    [Fact]
    public async Task The_server_publishes_an_openapi_document_listing_its_endpoints()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        using var doc = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json"));
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var expected in new[] { "/api/contracts", "/api/contracts/{id}/signatures", "/api/computations/{id}/votes", "/api/computations/{id}/jobs", "/api/contracts/{id}/budget", "/attest/SevSnpVm", "/keys/{name}/{version}/release", "/api/contracts/{id}/terminate", "/api/enclave/jobs/{id}/heartbeat" })
        {
            Assert.Contains(expected, paths);
        }
    }

    [Fact]
    public async Task The_budget_endpoint_is_documented_with_its_report_and_refusals()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        using var doc = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json"));
        var get = doc.RootElement.GetProperty("paths").GetProperty("/api/contracts/{id}/budget").GetProperty("get");
        Assert.Contains("budget", get.GetProperty("summary").GetString(), StringComparison.Ordinal);
        var responses = get.GetProperty("responses");
        Assert.Contains("BudgetReport", responses.GetProperty("200").GetRawText(), StringComparison.Ordinal);
        Assert.True(responses.TryGetProperty("403", out _));
        Assert.True(responses.TryGetProperty("404", out _));
    }

    [Fact]
    public async Task Errors_are_problem_json_with_a_stable_code()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        using var response = await http.GetAsync("api/contracts/does-not-exist");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("contract.not_found", doc.RootElement.GetProperty("code").GetString());
        Assert.Equal(404, doc.RootElement.GetProperty("status").GetInt32());
    }
}

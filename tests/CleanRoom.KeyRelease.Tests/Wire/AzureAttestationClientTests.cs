using System.Buffers.Text;
using System.Text;
using Azure.Core;

namespace CleanRoom.KeyRelease.Tests.Wire;

public sealed class AzureAttestationClientTests : IAsyncLifetime
{
    private const string IssuedToken = "eyJhbGciOiJSUzI1NiJ9.eyJ4LW1zLWF0dGVzdGF0aW9uLXR5cGUiOiJzZXZzbnB2bSJ9.c2ln";
    private const string Pem = "-----BEGIN CERTIFICATE-----\nVCEK\n-----END CERTIFICATE-----\n";
    private static readonly byte[] Report = Enumerable.Range(0, 1184).Select(i => (byte)i).ToArray();
    private static readonly byte[] RuntimeData = """{"keys":[{"kid":"k","kty":"RSA"}]}"""u8.ToArray();

    private LoopbackAzureServer _server = null!;
    private readonly FixedTokenCredential _credential = new();

    public async Task InitializeAsync()
    {
        _server = await LoopbackAzureServer.StartAsync();
        _server.Handler = MaaSpeaks;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private AzureAttestationClient Client()
    {
        var options = new AzureAttestationClientOptions { Transport = _server.CreateTransport() };
        options.Retry.MaxRetries = 0;
        return new AzureAttestationClient(_server.BaseUri, _credential, options);
    }

    /// <summary>The fake MAA: checks the wire format and answers like the service.</summary>
    private static (int, string) MaaSpeaks(RecordedRequest request)
    {
        if (request.Method != "POST" || request.Path != "/attest/SevSnpVm" || request.ApiVersion != "2022-08-01")
        {
            return (404, """{"error":{"code":"NotFound","message":"no such operation"}}""");
        }

        if (request.Authorization != "Bearer " + FixedTokenCredential.Token)
        {
            return (401, """{"error":{"code":"Unauthorized","message":"no token"}}""");
        }

        using var body = JsonDocument.Parse(request.Body);
        using var report = JsonDocument.Parse(Base64Url.DecodeFromChars(body.RootElement.GetProperty("report").GetString()));
        var snp = Base64Url.DecodeFromChars(report.RootElement.GetProperty("SnpReport").GetString());
        var chain = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(report.RootElement.GetProperty("VcekCertChain").GetString()));
        var runtime = body.RootElement.GetProperty("runtimeData");
        if (snp.Length != 1184 || !chain.StartsWith("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            || runtime.GetProperty("dataType").GetString() != "JSON" || Base64Url.DecodeFromChars(runtime.GetProperty("data").GetString()).Length == 0)
        {
            return (400, """{"error":{"code":"InvalidParameter","message":"bad evidence"}}""");
        }

        return (200, $$"""{"token":"{{IssuedToken}}"}""");
    }

    [Fact]
    public async Task Attest_posts_the_maa_wire_format_and_returns_the_token()
    {
        var response = await Client().AttestSevSnpVmAsync(Report, Pem, RuntimeData, "nonce-7");

        Assert.Equal(IssuedToken, response.Value);
        Assert.Equal(200, response.GetRawResponse().Status);
        Assert.Equal([AzureAttestationClientOptions.DefaultScope], _credential.Scopes.Distinct());

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/attest/SevSnpVm", request.Path);
        Assert.Equal("?api-version=2022-08-01", request.Query);
        Assert.Equal("Bearer fixed-test-access-token", request.Authorization);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);

        var expectedReport = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"SnpReport":"{{Base64Url.EncodeToString(Report)}}","VcekCertChain":"{{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Pem))}}"}"""));
        Assert.Equal(
            $$"""{"report":"{{expectedReport}}","runtimeData":{"data":"{{Base64Url.EncodeToString(RuntimeData)}}","dataType":"JSON"},"nonce":"nonce-7"}""",
            request.Body);
    }

    [Fact]
    public async Task Attest_without_a_nonce_omits_it()
    {
        await Client().AttestSevSnpVmAsync(Report, Pem, RuntimeData, nonce: null);
        using var body = JsonDocument.Parse(Assert.Single(_server.Requests).Body);
        Assert.False(body.RootElement.TryGetProperty("nonce", out _));
    }

    [Fact]
    public async Task Service_error_maps_to_one_exception_with_status_and_code()
    {
        _server.Handler = _ => (403, """{"error":{"code":"PolicyEvaluationError","message":"Attestation policy rejected the evidence."}}""");
        var error = await Assert.ThrowsAsync<KeyReleaseException>(() => Client().AttestSevSnpVmAsync(Report, Pem, RuntimeData, null));
        Assert.Equal(403, error.Status);
        Assert.Equal("PolicyEvaluationError", error.ErrorCode);
        Assert.Contains("Attestation policy rejected", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"jwt":"x"}""")]
    [InlineData("""{"token":5}""")]
    public async Task Malformed_success_body_maps_to_malformed_response(string body)
    {
        _server.Handler = _ => (200, body);
        var error = await Assert.ThrowsAsync<KeyReleaseException>(() => Client().AttestSevSnpVmAsync(Report, Pem, RuntimeData, null));
        Assert.Equal(200, error.Status);
        Assert.Equal(KeyReleaseException.MalformedResponseCode, error.ErrorCode);
    }

    [Fact]
    public async Task Endpoint_with_a_path_prefix_keeps_it()
    {
        var options = new AzureAttestationClientOptions { Transport = _server.CreateTransport(), ApiVersion = "2022-08-01" };
        options.Retry.MaxRetries = 0;
        _server.Handler = _ => (200, """{"token":"t"}""");
        var client = new AzureAttestationClient(new Uri(_server.BaseUri, "/tenant/"), _credential, options);
        await client.AttestSevSnpVmAsync(Report, Pem, RuntimeData, null);
        Assert.Equal("/tenant/attest/SevSnpVm", Assert.Single(_server.Requests).Path);
    }

    [Fact]
    public void Plain_http_endpoints_are_refused() =>
        Assert.Throws<ArgumentException>(() => new AzureAttestationClient(new Uri("http://127.0.0.1:1"), _credential));
}

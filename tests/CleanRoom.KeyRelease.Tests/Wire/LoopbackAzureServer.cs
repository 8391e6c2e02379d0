using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CleanRoom.KeyRelease.Tests.Wire;

/// <summary>
/// Kestrel on https://127.0.0.1:{random port} with a throwaway self-signed certificate (Azure.Core
/// refuses bearer tokens over plain http). <see cref="Handler"/> answers each request; every
/// request is recorded.
/// </summary>
internal sealed class LoopbackAzureServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private LoopbackAzureServer(WebApplication app, X509Certificate2 certificate, Uri baseUri)
    {
        _app = app;
        _certificate = certificate;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public List<RecordedRequest> Requests { get; } = [];

    public Func<RecordedRequest, (int Status, string Body)> Handler { get; set; } = _ => (500, "{}");

    public static async Task<LoopbackAzureServer> StartAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        LoopbackAzureServer? server = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var recorded = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty,
                context.Request.QueryString.Value ?? string.Empty, context.Request.Headers.Authorization.ToString(),
                context.Request.ContentType, await reader.ReadToEndAsync());
            lock (server!.Requests)
            {
                server.Requests.Add(recorded);
            }

            var (status, body) = server.Handler(recorded);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();
        server = new LoopbackAzureServer(app, certificate, new Uri(app.Urls.Single()));
        return server;
    }

    /// <summary>A transport that trusts exactly this server's certificate.</summary>
    public HttpClientTransport CreateTransport()
    {
        var thumbprint = _certificate.GetCertHashString(HashAlgorithmName.SHA256);
#pragma warning disable CA2000 // the transport owns the handler
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint,
        };
#pragma warning restore CA2000
        return new HttpClientTransport(handler);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}

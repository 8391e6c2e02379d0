// Microsoft Azure Attestation REST, "Attest SevSnpVm" (api-version 2022-08-01):
//   POST {instance}/attest/SevSnpVm?api-version=2022-08-01
//   {"report": b64url(JSON {"SnpReport": b64url(ATTESTATION_REPORT, 1184 bytes), "VcekCertChain": b64url(PEM VCEK+ASK+ARK)}),
//    "runtimeData": {"data": b64url(runtime JSON), "dataType": "JSON"}, "nonce": "…"}  →  {"token": "<JWT>"}
// REPORT_DATA must be SHA-256(runtime JSON bytes) ‖ 32 zero bytes; the runtime JSON returns as x-ms-runtime.
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>Exchanges SEV-SNP evidence for an MAA attestation token, over an Azure.Core pipeline.</summary>
public sealed class AzureAttestationClient
{
    private const string Service = "Azure Attestation";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly string _apiVersion;

    /// <summary>Creates a client for an attestation instance (e.g. <c>https://sharedeus.eus.attest.azure.net</c>).</summary>
    public AzureAttestationClient(Uri endpoint, TokenCredential credential, AzureAttestationClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        _endpoint = EndpointGuard.RequireHttps(endpoint, nameof(endpoint));
        options ??= new AzureAttestationClientOptions();
        ArgumentException.ThrowIfNullOrEmpty(options.Scope, nameof(options));
        _apiVersion = options.ApiVersion;
        _pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, options.Scope));
    }

    /// <summary>
    /// Submits an SNP report with its VCEK chain and the runtime data it binds; returns the MAA
    /// token (not yet validated: the caller checks it against the instance's JWKS).
    /// </summary>
    public async Task<Response<string>> AttestSevSnpVmAsync(byte[] snpReport, string vcekCertChainPem, byte[] runtimeDataJson,
        string? nonce, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snpReport);
        ArgumentException.ThrowIfNullOrEmpty(vcekCertChainPem);
        ArgumentNullException.ThrowIfNull(runtimeDataJson);

        var body = BuildBody(snpReport, vcekCertChainPem, runtimeDataJson, nonce);
        return await AzureRestCall.PostAsync(_pipeline, uri =>
        {
            uri.Reset(_endpoint);
            uri.Path = EndpointGuard.BasePath(_endpoint) + "/attest/SevSnpVm";
            uri.AppendQuery("api-version", _apiVersion, escapeValue: true);
        }, body, "token", Service, secret: null, cancellationToken).ConfigureAwait(false);
    }

    internal static byte[] BuildBody(byte[] snpReport, string vcekCertChainPem, byte[] runtimeDataJson, string? nonce)
    {
        using var reportJson = new MemoryStream();
        using (var writer = new Utf8JsonWriter(reportJson))
        {
            writer.WriteStartObject();
            writer.WriteString("SnpReport", Base64UrlCodec.Encode(snpReport));
            writer.WriteString("VcekCertChain", Base64UrlCodec.Encode(Encoding.UTF8.GetBytes(vcekCertChainPem)));
            writer.WriteEndObject();
        }

        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("report", Base64UrlCodec.Encode(reportJson.ToArray()));
            writer.WriteStartObject("runtimeData");
            writer.WriteString("data", Base64UrlCodec.Encode(runtimeDataJson));
            writer.WriteString("dataType", "JSON");
            writer.WriteEndObject();
            if (nonce is not null)
            {
                writer.WriteString("nonce", nonce);
            }

            writer.WriteEndObject();
        }

        return body.ToArray();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>
/// HTTP calls from the enclave to the server. The attest and release calls use the Azure wire
/// formats (MAA SevSnpVm attest, Key Vault key release), so pointing them at Azure is configuration.
/// </summary>
public sealed class EnclaveServerClient(HttpClient http) : IDisposable, IEnclaveAttestationClient, IEnclaveKeyReleaseClient
{
    private static readonly JsonSerializerOptions s_json = CanonicalJson.SerializerOptions;

    private KeyReleaseSignerTrust? _releaseSigners;

    public string? Token { get; set; }

    /// <summary>Where <see cref="ReleaseKeyAsync"/> goes: this server's broker unless configured otherwise (Azure Key Vault).</summary>
    internal IEnclaveKeyReleaseClient? KeyRelease { get; set; }

    bool IEnclaveAttestationClient.IsLocal => true;

    bool IEnclaveKeyReleaseClient.IsLocal => true;

    Task<string> IEnclaveAttestationClient.AttestAsync(AttestationEvidence evidence, byte[] runtimeData, string nonce, CancellationToken cancellationToken) =>
        AttestAsync(evidence.Report, evidence.VcekCertChainPem, runtimeData, nonce, cancellationToken);

    Task<string> IEnclaveAttestationClient.GetJwksAsync(CancellationToken cancellationToken) => http.GetStringAsync("certs", cancellationToken);

    async Task<KeyReleaseSignerTrust> IEnclaveKeyReleaseClient.SignerTrustAsync(CancellationToken cancellationToken)
    {
        var trust = KeyReleaseSignerTrust.FromPem(await BrokerSigningKeyPemAsync(cancellationToken), trustedRootsPem: null);
        return trust.IsSuccess
            ? trust.Value
            : throw new JobRefusalException(trust.ErrorCode, "key release refused: " + trust.Reason);
    }

    Task<string> IEnclaveKeyReleaseClient.ReleaseAsync(string name, string version, string attestationToken, string nonce, CancellationToken cancellationToken) =>
        ReleaseLocallyAsync(name, version, attestationToken, nonce, cancellationToken);

    public async Task<string> AttestAsync(byte[] report, string vcekChainPem, byte[] runtimeData, string nonce, CancellationToken cancellationToken)
    {
        var inner = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["SnpReport"] = Hashing.B64Url(report),
            ["VcekCertChain"] = Hashing.B64Url(System.Text.Encoding.UTF8.GetBytes(vcekChainPem)),
        });
        var body = new Dictionary<string, object>
        {
            ["report"] = Hashing.B64Url(inner),
            ["runtimeData"] = new Dictionary<string, string> { ["data"] = Hashing.B64Url(runtimeData), ["dataType"] = "JSON" },
            ["nonce"] = nonce,
        };
        using var response = await http.PostAsJsonAsync("attest/SevSnpVm?api-version=2022-08-01", body, cancellationToken);
        await EnsureSuccessAsync(response, "attestation", cancellationToken);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    public async Task<string> BrokerSigningKeyPemAsync(CancellationToken cancellationToken) =>
        await http.GetStringAsync("keys/broker-signing-key", cancellationToken);

    /// <summary>Key Vault Secure Key Release: returns the signed release response (JWS), not yet verified.</summary>
    public Task<string> ReleaseKeyAsync(string name, string version, string nonce, CancellationToken cancellationToken) =>
        (KeyRelease ?? this).ReleaseAsync(name, version, Token!, nonce, cancellationToken);

    /// <summary>
    /// Key Vault Secure Key Release, verified: learns the configured service's signers first (once;
    /// throws <see cref="JobRefusalException"/> when none is trusted, before anything is asked for),
    /// then releases the key and verifies the response under those signers at <paramref name="now"/>,
    /// requiring it to echo <paramref name="nonce"/>.
    /// </summary>
    internal async Task<KeyReleaseResult<KeyReleaseResponse>> ReleaseVerifiedKeyAsync(string name, string version, string nonce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _releaseSigners ??= await (KeyRelease ?? this).SignerTrustAsync(cancellationToken);
        var jws = await ReleaseKeyAsync(name, version, nonce, cancellationToken);
        return KeyReleaseResponse.Verify(jws, _releaseSigners, nonce, now);
    }

    private async Task<string> ReleaseLocallyAsync(string name, string version, string token, string nonce, CancellationToken cancellationToken)
    {
        var request = new ReleaseRequest(token, nonce, KeyWrapAlgorithm.RsaAesKeyWrap256);
        using var content = new ByteArrayContent(request.ToUtf8Json());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync($"keys/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(version)}/release?api-version=7.4", content, cancellationToken);
        await EnsureSuccessAsync(response, $"release of key '{name}'", cancellationToken);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return doc.RootElement.GetProperty("value").GetString()!;
    }

    public async Task<EnclaveJobTicket?> ClaimAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/enclave/jobs/claim", null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "job claim", cancellationToken);
        return await response.Content.ReadFromJsonAsync<EnclaveJobTicket>(s_json, cancellationToken);
    }

    public async Task<DatasetKeysResponse> DatasetKeysAsync(string jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/enclave/jobs/{jobId}/dataset-keys", null, cancellationToken);
        await EnsureSuccessAsync(response, "dataset key release", cancellationToken);
        return (await response.Content.ReadFromJsonAsync<DatasetKeysResponse>(s_json, cancellationToken))!;
    }

    /// <summary>Streams a dataset's ciphertext; the caller owns the response.</summary>
    public async Task<HttpResponseMessage> CiphertextAsync(string jobId, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/enclave/jobs/{jobId}/datasets/{name}/ciphertext");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await EnsureSuccessAsync(response, $"download of dataset '{name}'", cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The enclave's own consent check just before a result leaves it: the server cancels a job in the same transaction that
    /// revokes consent or terminates the contract, so a job it no longer runs must not release anything
    /// (<see cref="ResultWithheldException"/>). While the server cannot be reached the check is retried and nothing is
    /// released: fail closed. The server checks again, atomically, when it stores the result.
    /// </summary>
    public async Task ConfirmStillRunningAsync(string jobId, CancellationToken cancellationToken)
    {
        var beat = await WhileUnreachableAsync(() => HeartbeatAsync(jobId, cancellationToken, wait: false), cancellationToken);
        if (beat.State != "running")
        {
            var code = beat.ReasonCode ?? "job." + beat.State;
            throw new ResultWithheldException(code, $"result withheld by the enclave: the server no longer runs job {jobId} ({code})");
        }
    }

    /// <summary>
    /// Submits the signed result. A result reaches its recipients only through the server, which re-checks
    /// consent in the transaction that stores it; while the server is unreachable nothing is released, and
    /// the submission is retried until <paramref name="cancellationToken"/> ends it (the job's token: it is
    /// cancelled when the job's lease can no longer be renewed, or the server says the job was cancelled).
    /// </summary>
    public Task SubmitResultAsync(string jobId, string resultJws, CancellationToken cancellationToken) =>
        WhileUnreachableAsync(async () =>
        {
            using var response = await SendAsync(HttpMethod.Post, $"api/enclave/jobs/{jobId}/result", new ResultSubmission(resultJws), cancellationToken);
            await EnsureSuccessAsync(response, "result submission", cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="call"/> again, with a growing pause (0.1 s to 2 s), for as long as the server cannot be reached and
    /// <paramref name="cancellationToken"/> allows: the calls that must not give up on a restarting server, and release
    /// nothing while it is down.
    /// </summary>
    private static async Task<T> WhileUnreachableAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (HttpRequestException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * attempt)), cancellationToken);
            }
        }
    }

    /// <summary>
    /// Renews the job's lease; long-polls until the job leaves the running state or a third of the lease passes, or with
    /// <paramref name="wait"/> false answers at once.
    /// </summary>
    public async Task<JobHeartbeat> HeartbeatAsync(string jobId, CancellationToken cancellationToken, bool wait = true)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/enclave/jobs/{jobId}/heartbeat" + (wait ? "" : "?wait=false"), null, cancellationToken);
        await EnsureSuccessAsync(response, "heartbeat", cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JobHeartbeat>(s_json, cancellationToken))!;
    }

    public async Task ReportFailureAsync(string jobId, JobFailureReport failure, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/enclave/jobs/{jobId}/failure", failure, cancellationToken);
        await EnsureSuccessAsync(response, "failure report", cancellationToken);
    }

    public void Dispose()
    {
        _releaseSigners?.Dispose();
        http.Dispose();
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: s_json);
        }

        return await http.SendAsync(request, cancellationToken);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string code = "server.error", detail = $"{what} failed with HTTP {(int)response.StatusCode}";
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<Problem>(s_json, cancellationToken);
            if (problem is not null)
            {
                (code, detail) = (problem.Code, problem.Detail ?? detail);
            }
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            // Not a problem document: keep the generic reason.
        }

        throw new JobRefusalException(code, detail);
    }
}

using CleanRoom.Core.Api;

namespace CleanRoom.Enclave;

/// <summary>
/// The enclave's main loop: make per-boot keys, attest (evidence binds their hash), then claim
/// and run jobs one at a time. Re-attests before the token ages out.
/// </summary>
public sealed class EnclaveHost(EnclaveOptions options, TextWriter log, TimeProvider time)
{
    private static readonly TimeSpan s_reattestAfter = TimeSpan.FromMinutes(30);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var client = new EnclaveServerClient(new HttpClient { BaseAddress = options.Server, Timeout = TimeSpan.FromMinutes(30) });
        using var services = EnclaveServices.Create(options, client, time, out var error);
        if (services is null)
        {
            await log.WriteLineAsync("cleanroom-enclave: refused to start: " + error);
            return 2;
        }

        client.KeyRelease = services.KeyRelease;
        using var keys = new EnclaveKeys();
        var runner = new JobRunner(client, keys, options, time);
        var attestedAt = DateTimeOffset.MinValue;
        var jobs = 0;
        var failures = 0;
        await log.WriteLineAsync($"cleanroom-enclave: evidence from {services.Attestation.Evidence.Description}; attestation by {(services.Attestation.Authority.IsLocal ? "the local server" : options.AttestationEndpoint)}; key release by {(services.KeyRelease.IsLocal ? "the local broker" : options.KeyVault)}; pinned issuer {services.Attestation.ExpectedIssuer}");
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (time.GetUtcNow() - attestedAt > s_reattestAfter)
                {
                    client.Token = await services.Attestation.AttestAsync(keys, nonce: null, cancellationToken);
                    attestedAt = time.GetUtcNow();
                    await log.WriteLineAsync($"cleanroom-enclave: attested ({services.Attestation.Evidence.Description}); token checked; waiting for jobs");
                }

                var ticket = await client.ClaimAsync(cancellationToken);
                failures = 0;
                if (ticket is null)
                {
                    await Task.Delay(options.PollInterval, cancellationToken);
                    continue;
                }

                await RunJobAsync(runner, client, ticket, cancellationToken);
                jobs++;
                if (options.MaxJobs > 0 && jobs >= options.MaxJobs)
                {
                    return 0;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (JobRefusalException ex)
            {
                // Refused outside a job (attestation, token, claim): attest afresh next time, and back off
                // so that a misconfigured enclave does not flood the server and its audit log.
                attestedAt = DateTimeOffset.MinValue;
                await log.WriteLineAsync($"cleanroom-enclave: {ex.Code}: {ex.Message}");
                await BackOffAsync(++failures, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                await log.WriteLineAsync($"cleanroom-enclave: server unreachable ({ex.Message}); retrying");
                await BackOffAsync(++failures, cancellationToken);
            }
        }

        return 0;
    }

    /// <summary>1 s, 2 s, 4 s … up to 30 s between consecutive failures.</summary>
    internal static TimeSpan BackOffDelay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Clamp(failures - 1, 0, 5))));

    private static Task BackOffAsync(int failures, CancellationToken cancellationToken) =>
        Task.Delay(BackOffDelay(failures), cancellationToken)
            .ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    /// <summary>Tells the server a job was stopped with nothing released (audited as job.interrupted).</summary>
    private async Task ReportCancelledAsync(EnclaveServerClient client, string jobId, string code, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await client.ReportFailureAsync(jobId, new JobFailureReport(code, reason, "cancelled"), cancellationToken);
        }
        catch (Exception reportError) when (reportError is HttpRequestException or JobRefusalException)
        {
            // The server is gone or no longer lets this enclave report on the job: its lease expiry requeues or ends it.
            await log.WriteLineAsync($"cleanroom-enclave: job {jobId}: cancellation not reported ({reportError.GetType().Name})");
        }
    }

    private async Task RunJobAsync(JobRunner runner, EnclaveServerClient client, EnclaveJobTicket ticket, CancellationToken cancellationToken)
    {
        await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} started");
        await using var watcher = JobWatcher.Start(client, ticket.JobId, time, cancellationToken);
        try
        {
            await runner.RunAsync(ticket, watcher.Token);
            await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} finished; result signed");
        }
        catch (Exception ex) when (watcher.IsStopped && !cancellationToken.IsCancellationRequested)
        {
            // Stopped in flight by the server (consent revoked, contract terminated, lease lost): whatever
            // was running was interrupted and nothing was released. Say so, for the audit log.
            var where = ex is OperationCanceledException { Message: SqlSandbox.InterruptedMessage } ? "DuckDB query interrupted" : "stopped before a result was submitted";
            var reason = $"job cancelled in flight: {watcher.StopReason}; {where}; no result released";
            await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} cancelled: {where}");
            await ReportCancelledAsync(client, ticket.JobId, watcher.StopCode!, reason, cancellationToken);
        }
        catch (ResultWithheldException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The enclave's own check before release: the job was cancelled after the result was computed.
            await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} cancelled: {ex.Message}");
            await ReportCancelledAsync(client, ticket.JobId, ex.Code, ex.Message + "; no result released", cancellationToken);
        }
        catch (JobRefusalException ex)
        {
            await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} {(ex.IsPolicyRefusal ? "refused" : "failed")}: {ex.Message}");
            await client.ReportFailureAsync(ticket.JobId, new JobFailureReport(ex.Code, ex.Message, ex.IsPolicyRefusal ? "refused" : "failed"), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Unexpected: report without details (an exception message could quote data).
            await log.WriteLineAsync($"cleanroom-enclave: job {ticket.JobId} failed: internal error ({ex.GetType().Name})");
            await client.ReportFailureAsync(ticket.JobId, new JobFailureReport("enclave.internal_error", $"job failed: internal enclave error ({ex.GetType().Name})", "failed"), cancellationToken);
        }
    }
}

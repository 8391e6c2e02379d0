using CleanRoom.Core.Api;

namespace CleanRoom.Enclave;

/// <summary>
/// Holds a running job's lease and listens for its cancellation. It long-polls the server's heartbeat
/// (which renews the lease and answers as soon as the job leaves the running state) and cancels
/// <see cref="Token"/> when the server says the job no longer runs (consent revoked, contract
/// terminated, lease reaped or job claimed elsewhere), or when the lease can no longer be renewed
/// (server unreachable past it). Cancelling the token interrupts DuckDB and any call to the server,
/// so nothing is released for a job that was stopped.
/// </summary>
internal sealed class JobWatcher : IAsyncDisposable
{
    // Assumed lease until the server's first answer names it (the server's default).
    private static readonly TimeSpan s_defaultLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(250);

    private readonly EnclaveServerClient _client;
    private readonly string _jobId;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _job;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private JobWatcher(EnclaveServerClient client, string jobId, TimeProvider time, CancellationToken hostToken)
    {
        _client = client;
        _jobId = jobId;
        _time = time;
        _job = CancellationTokenSource.CreateLinkedTokenSource(hostToken);
        _loop = Task.Run(LoopAsync, CancellationToken.None);
    }

    /// <summary>The job's token: cancelled when the job must stop (or the enclave shuts down).</summary>
    public CancellationToken Token => _job.Token;

    /// <summary>Why the server or the lease stopped the job; null while it may go on.</summary>
    public string? StopCode { get; private set; }

    public string? StopReason { get; private set; }

    public bool IsStopped => StopCode is not null;

    public static JobWatcher Start(EnclaveServerClient client, string jobId, TimeProvider time, CancellationToken hostToken) =>
        new(client, jobId, time, hostToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _job.Dispose();
    }

    private async Task LoopAsync()
    {
        var lease = s_defaultLease;
        var renewedAt = _time.GetTimestamp();
        while (!_stop.IsCancellationRequested && !_job.IsCancellationRequested)
        {
            var sentAt = _time.GetTimestamp();
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _job.Token);

            // A server that accepts the connection but never answers must not hold the lease open.
            attempt.CancelAfter(lease);
            try
            {
                var beat = await _client.HeartbeatAsync(_jobId, attempt.Token);
                lease = TimeSpan.FromMilliseconds(Math.Max(1000, beat.LeaseMilliseconds));
                renewedAt = sentAt;
                if (beat.State != "running")
                {
                    Stop(beat.ReasonCode ?? "job.cancelled", $"the server reports the job {beat.State}" + (beat.Reason is null ? string.Empty : $" ({beat.Reason})"));
                    return;
                }
            }
            catch (JobRefusalException ex)
            {
                // The server refused the heartbeat (job no longer ours, token refused): fail closed.
                Stop(ex.Code, ex.Message);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !_stop.IsCancellationRequested && !_job.IsCancellationRequested)
            {
                if (_time.GetElapsedTime(renewedAt) >= lease)
                {
                    Stop("job.lease_lost", "the job's lease could not be renewed: the server is unreachable");
                    return;
                }

                try
                {
                    await Task.Delay(s_retryDelay, _time, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Stop(string code, string reason)
    {
        StopReason = reason;
        StopCode = code;
        _job.Cancel();
    }
}

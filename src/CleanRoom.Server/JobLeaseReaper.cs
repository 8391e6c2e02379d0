namespace CleanRoom.Server;

/// <summary>
/// Requeues jobs whose lease expired even when no enclave is claiming (a claim reaps too), so that a
/// job interrupted by a crash never stays running forever. Checks by a read first: an idle server writes nothing.
/// </summary>
public sealed partial class JobLeaseReaper(Database db, JobLeases leases, AuditLog audit, ILogger<JobLeaseReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(leases.Duration.TotalMilliseconds / 4, 100, 5000));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                bool expired;
                using (var c = db.Open())
                {
                    expired = leases.AnyExpired(c);
                }

                if (expired)
                {
                    leases.Notify(await db.WriteAsync((c, tx) => leases.ReapExpired(c, tx, audit), stoppingToken));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogReapFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "reaping expired job leases failed; will retry")]
    private static partial void LogReapFailed(ILogger logger, Exception ex);
}

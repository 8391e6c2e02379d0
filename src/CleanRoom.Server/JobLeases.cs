using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// Leases on claimed jobs, and the in-process signal that wakes an enclave's heartbeat the moment its
/// job leaves the running state. A claim takes a lease; the enclave's heartbeat renews it while the job
/// runs; a lease that expires (the enclave or the server died, or they lost each other) puts the job
/// back in the queue, and after <see cref="MaxAttempts"/> expired leases fails it with a reason. Every
/// change happens inside the caller's write transaction, together with its audit entry.
/// </summary>
public sealed class JobLeases(ServerOptions options, TimeProvider time)
{
    /// <summary>Claims a job may have before an expired lease fails it instead of requeueing it.</summary>
    public const int MaxAttempts = 3;

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _watchers = new(StringComparer.Ordinal);

    public TimeSpan Duration => options.JobLease;

    /// <summary>How long a heartbeat waits for a change before it answers "still running" (a third of the lease).</summary>
    public TimeSpan PollWait => options.JobLease / 3;

    public long ExpiryFromNow() => (time.GetUtcNow() + options.JobLease).ToUnixTimeMilliseconds();

    /// <summary>A task that completes when <see cref="Notify"/> is next called for the job.</summary>
    public Task Changed(string jobId) =>
        _watchers.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Drops the job's signal when its waiter gives up (a later waiter registers a fresh one).</summary>
    public void Forget(string jobId, Task changed)
    {
        if (_watchers.TryGetValue(jobId, out var tcs) && tcs.Task == changed && !changed.IsCompleted)
        {
            _watchers.TryRemove(KeyValuePair.Create(jobId, tcs));
        }
    }

    /// <summary>Wakes the heartbeats of these jobs; call it after the transaction that changed them has committed.</summary>
    public void Notify(IEnumerable<string> jobIds)
    {
        foreach (var id in jobIds)
        {
            if (_watchers.TryRemove(id, out var tcs))
            {
                tcs.TrySetResult();
            }
        }
    }

    /// <summary>Takes the oldest queued job for <paramref name="enclaveId"/>, with a fresh lease; null when the queue is empty.</summary>
    public string? Claim(SqliteConnection c, SqliteTransaction tx, string enclaveId) =>
        Database.Scalar(c, "UPDATE jobs SET state = 'running', claimed_by = $e, attempts = attempts + 1, lease_expires_at = $l, updated_at = $t WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at, id LIMIT 1) RETURNING id;", tx,
            ("$e", enclaveId), ("$l", ExpiryFromNow()), ("$t", Store.Now(time))) as string;

    /// <summary>Extends the lease of a job this enclave holds and that still runs; false otherwise.</summary>
    public bool Renew(SqliteConnection c, SqliteTransaction tx, string jobId, string enclaveId)
    {
        using var cmd = Database.Command(c, "UPDATE jobs SET lease_expires_at = $l WHERE id = $id AND state = 'running' AND claimed_by = $e;", tx,
            ("$l", ExpiryFromNow()), ("$id", jobId), ("$e", enclaveId));
        return cmd.ExecuteNonQuery() > 0;
    }

    /// <summary>Ends the lease now (the enclave gave the job up); the next reaping requeues or fails it.</summary>
    public void Release(SqliteConnection c, SqliteTransaction tx, string jobId) =>
        Database.Exec(c, "UPDATE jobs SET lease_expires_at = 0 WHERE id = $id AND state = 'running';", tx, ("$id", jobId));

    /// <summary>True if some running job's lease has expired (a read, so that an idle reaper writes nothing).</summary>
    public bool AnyExpired(SqliteConnection c) =>
        Database.Scalar(c, "SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at < $now LIMIT 1;", null, ("$now", time.GetUtcNow().ToUnixTimeMilliseconds())) is not null;

    /// <summary>
    /// Requeues every running job whose lease has expired, or fails it once it has had
    /// <see cref="MaxAttempts"/> claims; audits each and returns their ids (for <see cref="Notify"/>).
    /// </summary>
    public List<string> ReapExpired(SqliteConnection c, SqliteTransaction tx, AuditLog audit)
    {
        var expired = new List<(string Id, long Attempts)>();
        using (var cmd = Database.Command(c, "SELECT id, attempts FROM jobs WHERE state = 'running' AND lease_expires_at < $now ORDER BY id;", tx, ("$now", time.GetUtcNow().ToUnixTimeMilliseconds())))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                expired.Add((r.GetString(0), r.GetInt64(1)));
            }
        }

        var now = Store.Now(time);
        foreach (var (id, attempts) in expired)
        {
            if (attempts >= MaxAttempts)
            {
                var reason = $"job failed: the lease expired on all {attempts} attempts (the enclave or the server was interrupted each time)";
                Database.Exec(c, "UPDATE jobs SET state = 'failed', reason_code = 'job.lease_expired', reason = $r, lease_expires_at = NULL, updated_at = $t WHERE id = $id;", tx,
                    ("$r", reason), ("$t", now), ("$id", id));
                audit.Append(c, tx, "server", "job.failed", "job/" + id, "failed", "job.lease_expired", reason);
            }
            else
            {
                var reason = $"job requeued: the lease of attempt {attempts} of {MaxAttempts} expired (the enclave or the server was interrupted)";
                Database.Exec(c, "UPDATE jobs SET state = 'queued', claimed_by = NULL, lease_expires_at = NULL, updated_at = $t WHERE id = $id;", tx,
                    ("$t", now), ("$id", id));
                audit.Append(c, tx, "server", "job.requeued", "job/" + id, "ok", "job.lease_expired", reason);
            }
        }

        return expired.Select(e => e.Id).ToList();
    }
}

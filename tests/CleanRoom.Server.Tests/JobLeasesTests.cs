using CleanRoom.Server;

namespace CleanRoom.Server.Tests;

/// <summary>Job leases against a real SQLite file, with a clock the test moves forward.</summary>
public sealed class JobLeasesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-lease-").FullName;
    private readonly ManualClock _clock = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly ServerIdentity _identity;
    private Database _db;
    private AuditLog _audit;
    private JobLeases _leases;

    public JobLeasesTests()
    {
        _identity = ServerIdentity.LoadOrCreate(_dir);
        (_db, _audit, _leases) = Open();
        _db.WriteAsync((c, tx) =>
        {
            Database.Exec(c, "INSERT INTO contracts (id, version, document, hash, state, created_at) VALUES ('c1', 1, '{}', 'h', 'active', 't');", tx);
            Database.Exec(c, "INSERT INTO computations (id, contract_id, document, hash, state, required_approvers, tables_read, summary, created_at) VALUES ('q', 'c1', '{}', 'h', 'approved', '[]', '[]', '', 't');", tx);
            Database.Exec(c, "INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at) VALUES ('j1', 'c1', 'q', '{}', 'advertiser', 'queued', 't', 't');", tx);
            return 0;
        }).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _db.Dispose();
        _identity.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task An_expired_lease_requeues_the_job_until_the_last_attempt_then_fails_it_with_a_reason()
    {
        for (var attempt = 1; attempt <= JobLeases.MaxAttempts; attempt++)
        {
            Assert.Equal("j1", await _db.WriteAsync((c, tx) => _leases.Claim(c, tx, "enclave-" + attempt)));
            Assert.Empty(await ReapAsync());
            _clock.Advance(_leases.Duration + TimeSpan.FromMilliseconds(1));
            Assert.Equal(["j1"], await ReapAsync());
            Assert.Equal(attempt < JobLeases.MaxAttempts ? "queued" : "failed", Job().State);
        }

        var failed = Job();
        Assert.Equal("job.lease_expired", failed.Reason);
        Assert.Null(await _db.WriteAsync((c, tx) => _leases.Claim(c, tx, "enclave-4")));
        var actions = _audit.Export().Entries.Where(e => e.Target == "job/j1").Select(e => e.Action).ToList();
        Assert.Equal([.. Enumerable.Repeat("job.requeued", JobLeases.MaxAttempts - 1), "job.failed"], actions);
    }

    [Fact]
    public async Task A_heartbeat_renews_only_its_own_running_job_and_keeps_it_from_being_reaped()
    {
        await _db.WriteAsync((c, tx) => _leases.Claim(c, tx, "enclave-a"));
        _clock.Advance(_leases.Duration * 0.9);
        Assert.False(await _db.WriteAsync((c, tx) => _leases.Renew(c, tx, "j1", "enclave-b")));
        Assert.True(await _db.WriteAsync((c, tx) => _leases.Renew(c, tx, "j1", "enclave-a")));
        _clock.Advance(_leases.Duration * 0.9);
        Assert.Empty(await ReapAsync());
        Assert.Equal("running", Job().State);
    }

    [Fact]
    public async Task A_job_left_running_by_a_server_without_leases_is_requeued_after_the_migration()
    {
        await _db.WriteAsync((c, tx) => _leases.Claim(c, tx, "enclave-old"));
        _db.Dispose();

        // Take the file back to schema version 3 (no lease columns, no run requests), with the job running, and reopen it.
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(_dir, "cleanroom.db")))
        {
            old.Open();
            Database.Exec(old, "ALTER TABLE jobs DROP COLUMN run_request; DROP INDEX jobs_lease; ALTER TABLE jobs DROP COLUMN lease_expires_at; ALTER TABLE jobs DROP COLUMN attempts; DELETE FROM schema_version WHERE version > 3;");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        (_db, _audit, _leases) = Open();
        Assert.Equal(["j1"], await ReapAsync());
        Assert.Equal("queued", Job().State);
    }

    private (Database, AuditLog, JobLeases) Open()
    {
        var db = new Database(Path.Combine(_dir, "cleanroom.db"));
        return (db, new AuditLog(db, _identity, _clock), new JobLeases(new ServerOptions(), _clock));
    }

    private Task<List<string>> ReapAsync() => _db.WriteAsync((c, tx) => _leases.ReapExpired(c, tx, _audit));

    private (string State, string? Reason) Job()
    {
        using var c = _db.Open();
        using var cmd = Database.Command(c, "SELECT state, reason_code FROM jobs WHERE id = 'j1';", null);
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        return (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1));
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

using CleanRoom.Server;

namespace CleanRoom.Server.Tests;

public sealed class ConsentStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-consent-").FullName;
    private readonly Database _db;

    public ConsentStoreTests()
    {
        _db = new Database(Path.Combine(_dir, "cleanroom.db"));
        _db.WriteAsync((c, tx) =>
        {
            Database.Exec(c, "INSERT INTO contracts (id, version, document, hash, state, created_at) VALUES ('c1', 1, '{}', 'h', 'active', 't');", tx);
            Database.Exec(c, "INSERT INTO computations (id, contract_id, document, hash, state, required_approvers, tables_read, summary, created_at) VALUES ('joins', 'c1', '{}', 'h', 'approved', '[]', '[\"purchases\",\"exposures\"]', '', 't');", tx);
            Database.Exec(c, "INSERT INTO computations (id, contract_id, document, hash, state, required_approvers, tables_read, summary, created_at) VALUES ('exposures-only', 'c1', '{}', 'h', 'approved', '[]', '[\"exposures\"]', '', 't');", tx);
            foreach (var (job, computation, state) in new[] { ("j-queued", "joins", "queued"), ("j-running", "joins", "running"), ("j-done", "joins", "finished"), ("j-other", "exposures-only", "running") })
            {
                Database.Exec(c, "INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at) VALUES ($j, 'c1', $m, '{}', 'advertiser', $s, 't', 't');", tx, ("$j", job), ("$m", computation), ("$s", state));
            }

            return 0;
        }).GetAwaiter().GetResult();
    }

    private string JobState(string id)
    {
        using var c = _db.Open();
        return (string)Database.Scalar(c, "SELECT state FROM jobs WHERE id = $id;", null, ("$id", id))!;
    }

    [Fact]
    public async Task Revoking_a_dataset_blocks_and_cancels_exactly_the_jobs_that_read_it()
    {
        var cancelled = await _db.WriteAsync((c, tx) =>
        {
            Assert.True(ConsentStore.Revoke(c, tx, "c1", ConsentStore.ScopeDataset, "purchases", "retailer", "t1"));
            return ConsentStore.CancelBlockedJobs(c, tx, "c1", "t1");
        });

        Assert.Equal(["j-queued", "j-running"], cancelled.Order(StringComparer.Ordinal));
        Assert.Equal("cancelled", JobState("j-running"));
        Assert.Equal("finished", JobState("j-done"));
        Assert.Equal("running", JobState("j-other"));
        using var conn = _db.Open();
        Assert.Contains("retailer", ConsentStore.Blocking(conn, null, "c1", "joins", ["purchases", "exposures"]), StringComparison.Ordinal);
        Assert.Null(ConsentStore.Blocking(conn, null, "c1", "exposures-only", ["exposures"]));
    }

    [Fact]
    public async Task Revoking_a_computation_blocks_only_that_computation()
    {
        await _db.WriteAsync((c, tx) => ConsentStore.Revoke(c, tx, "c1", ConsentStore.ScopeComputation, "exposures-only", "advertiser", "t1"));
        using var conn = _db.Open();
        Assert.NotNull(ConsentStore.Blocking(conn, null, "c1", "exposures-only", ["exposures"]));
        Assert.Null(ConsentStore.Blocking(conn, null, "c1", "joins", ["purchases", "exposures"]));
    }

    [Fact]
    public async Task Revoking_the_contract_blocks_everything_and_restoring_lifts_it()
    {
        await _db.WriteAsync((c, tx) => ConsentStore.Revoke(c, tx, "c1", ConsentStore.ScopeContract, "c1", "retailer", "t1"));
        using (var conn = _db.Open())
        {
            Assert.NotNull(ConsentStore.Blocking(conn, null, "c1", "exposures-only", ["exposures"]));
        }

        Assert.True(await _db.WriteAsync((c, tx) => ConsentStore.Restore(c, tx, "c1", ConsentStore.ScopeContract, "c1", "retailer")));
        Assert.False(await _db.WriteAsync((c, tx) => ConsentStore.Restore(c, tx, "c1", ConsentStore.ScopeContract, "c1", "retailer")));
        using var after = _db.Open();
        Assert.Null(ConsentStore.Blocking(after, null, "c1", "exposures-only", ["exposures"]));
    }

    [Fact]
    public async Task A_revocation_survives_a_restart()
    {
        await _db.WriteAsync((c, tx) => ConsentStore.Revoke(c, tx, "c1", ConsentStore.ScopeDataset, "exposures", "advertiser", "t1"));
        using var reopened = new Database(Path.Combine(_dir, "cleanroom.db"));
        using var conn = reopened.Open();
        Assert.Single(ConsentStore.List(conn, null, "c1"));
    }

    public void Dispose()
    {
        _db.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

using CleanRoom.Core;
using CleanRoom.Server;

namespace CleanRoom.Server.Tests;

public sealed class AuditLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-audit-").FullName;
    private readonly Database _db;
    private readonly ServerIdentity _identity;
    private readonly AuditLog _log;

    public AuditLogTests()
    {
        _db = new Database(Path.Combine(_dir, "cleanroom.db"));
        _identity = ServerIdentity.LoadOrCreate(_dir);
        _log = new AuditLog(_db, _identity, TimeProvider.System);
    }

    [Fact]
    public async Task Appended_entries_form_a_chain_that_verifies_under_the_server_key()
    {
        await _log.AppendAsync("retailer", "contract.signed", "contract/c1");
        await _log.AppendAsync("server", "job.refused", "job/j1", "refused", "envelope.truncated", "job refused: truncated");
        var export = _log.Export();
        Assert.Equal(2, export.Entries.Count);
        Assert.Equal(AuditEntry.GenesisPrev, export.Entries[0].Prev);
        Assert.Equal(export.Entries[0].Hash(), export.Entries[1].Prev);
        var result = AuditVerifier.Verify(export, _identity.PublicKey);
        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public async Task Concurrent_appends_keep_one_unbroken_chain()
    {
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => _log.AppendAsync("p" + (i % 5), "request.refused", "t/" + i)));
        var export = _log.Export();
        Assert.Equal(200, export.Entries.Count);
        Assert.True(AuditVerifier.Verify(export, _identity.PublicKey).IsValid);
    }

    [Fact]
    public async Task The_log_and_the_server_key_survive_a_restart()
    {
        await _log.AppendAsync("retailer", "contract.signed", "contract/c1");
        using var reopenedIdentity = ServerIdentity.LoadOrCreate(_dir);
        using var reopenedDb = new Database(Path.Combine(_dir, "cleanroom.db"));
        var reopened = new AuditLog(reopenedDb, reopenedIdentity, TimeProvider.System);
        await reopened.AppendAsync("advertiser", "contract.signed", "contract/c1");
        var export = reopened.Export();
        Assert.Equal(_identity.PublicKey, reopenedIdentity.PublicKey);
        Assert.Equal(2, export.Entries.Count);
        Assert.True(AuditVerifier.Verify(export, _identity.PublicKey).IsValid);
    }

    [Fact]
    public void The_server_key_file_is_private()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "server-signing.key")));
    }

    public void Dispose()
    {
        _identity.Dispose();
        _db.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

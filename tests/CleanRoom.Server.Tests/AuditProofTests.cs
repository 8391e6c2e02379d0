using CleanRoom.Core;
using CleanRoom.Server;

namespace CleanRoom.Server.Tests;

public sealed class AuditProofTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-proof-").FullName;
    private readonly Database _db;
    private readonly ServerIdentity _identity;
    private readonly AuditLog _log;

    public AuditProofTests()
    {
        _db = new Database(Path.Combine(_dir, "cleanroom.db"));
        _identity = ServerIdentity.LoadOrCreate(_dir);
        _log = new AuditLog(_db, _identity, TimeProvider.System);
    }

    public void Dispose()
    {
        _db.Dispose();
        _identity.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task AppendAsync(int count, string prefix = "t")
    {
        for (var i = 0; i < count; i++)
        {
            await _log.AppendAsync("retailer", "contract.signed", $"{prefix}/{i}");
        }
    }

    [Fact]
    public async Task A_log_that_grew_extends_the_saved_checkpoint_offline_and_online()
    {
        await AppendAsync(5);
        var saved = _log.CurrentCheckpoint();
        await AppendAsync(8);

        var offline = AuditVerifier.VerifyExtends(_log.Export(), saved, _identity.PublicKey);
        Assert.True(offline.IsValid, offline.Reason);
        Assert.Equal(13, offline.Checkpoint!.Size);

        var online = AuditVerifier.VerifyConsistency(saved, _log.CurrentCheckpoint(), _log.ConsistencyProof(5)!, _identity.PublicKey);
        Assert.True(online.IsValid, online.Reason);
    }

    [Fact]
    public async Task A_rolled_back_log_is_refused_against_the_saved_checkpoint()
    {
        await AppendAsync(6);
        var saved = _log.CurrentCheckpoint();
        var export = _log.Export();

        // A server that drops its last entries and re-signs what is left.
        var shorter = export.Entries.Take(4).ToList();
        var resigned = new AuditCheckpoint(AuditLog.LogName, shorter.Count, shorter[^1].Hash(), AuditMerkle.Root(shorter), DateTimeOffset.UtcNow);
        var rolledBack = new AuditExport(export.ServerKey, Jws.Sign(resigned, _identity.SigningKey, StatementTypes.AuditCheckpoint), shorter);
        Assert.True(AuditVerifier.Verify(rolledBack).IsValid, "the shorter log is consistent on its own");

        var result = AuditVerifier.VerifyExtends(rolledBack, saved);
        Assert.Equal("audit.rolled_back", result.ErrorCode);
        Assert.Contains("holds 4 entries", result.Reason);
    }

    [Fact]
    public async Task A_forked_log_is_refused_against_the_saved_checkpoint_offline_and_online()
    {
        await AppendAsync(5);
        var saved = _log.CurrentCheckpoint();

        // Same server key, different history of the same length and longer.
        var forkDir = Directory.CreateTempSubdirectory("cr-fork-").FullName;
        try
        {
            using var forkDb = new Database(Path.Combine(forkDir, "cleanroom.db"));
            var fork = new AuditLog(forkDb, _identity, TimeProvider.System);
            for (var i = 0; i < 9; i++)
            {
                await fork.AppendAsync("retailer", "contract.signed", i == 2 ? "t/other" : $"t/{i}");
            }

            var forked = fork.Export();
            Assert.True(AuditVerifier.Verify(forked, _identity.PublicKey).IsValid, "the fork is consistent on its own");
            var offline = AuditVerifier.VerifyExtends(forked, saved);
            Assert.Equal("audit.forked", offline.ErrorCode);

            var online = AuditVerifier.VerifyConsistency(saved, fork.CurrentCheckpoint(), fork.ConsistencyProof(5)!);
            Assert.Equal("audit.forked", online.ErrorCode);
        }
        finally
        {
            Directory.Delete(forkDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_tampered_consistency_proof_or_saved_checkpoint_is_refused()
    {
        await AppendAsync(7);
        var saved = _log.CurrentCheckpoint();
        await AppendAsync(6);
        var proof = _log.ConsistencyProof(7)!;
        var tampered = proof with { Hashes = [.. proof.Hashes.Select((h, i) => i == 0 ? new string('0', 64) : h)] };
        Assert.Equal("audit.forked", AuditVerifier.VerifyConsistency(saved, _log.CurrentCheckpoint(), tampered).ErrorCode);

        var badSignature = saved with { Checkpoint = saved.Checkpoint[..^4] + (saved.Checkpoint.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA") };
        Assert.Equal("audit.checkpoint_signature", AuditVerifier.VerifyExtends(_log.Export(), badSignature).ErrorCode);
    }

    [Fact]
    public async Task An_inclusion_receipt_verifies_and_fails_when_tampered()
    {
        await AppendAsync(11);
        var receipt = _log.Receipt(6)!;
        Assert.True(AuditVerifier.VerifyReceipt(receipt, _identity.PublicKey).IsValid);

        var editedEntry = receipt with { Entry = receipt.Entry with { Target = "t/7" } };
        Assert.Equal("audit.not_included", AuditVerifier.VerifyReceipt(editedEntry).ErrorCode);

        var proof = receipt.Proof;
        var editedProof = receipt with { Proof = proof with { Hashes = [.. proof.Hashes.Reverse()] } };
        Assert.Equal("audit.not_included", AuditVerifier.VerifyReceipt(editedProof).ErrorCode);

        var otherIndex = receipt with { Proof = proof with { LeafIndex = 5 } };
        Assert.Equal("audit.proof_mismatch", AuditVerifier.VerifyReceipt(otherIndex).ErrorCode);

        Assert.Equal("audit.server_key_mismatch", AuditVerifier.VerifyReceipt(receipt, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").ErrorCode);
    }

    [Fact]
    public async Task A_rolled_back_write_leaves_no_leaf_in_the_tree()
    {
        await AppendAsync(3);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _db.WriteAsync<int>((c, tx) =>
        {
            _log.Append(c, tx, "retailer", "contract.drafted", "contract/x");
            throw new InvalidOperationException("refused after the audit append");
        }));

        // Writes queued together commit together; the failing one is undone alone.
        var ok = _log.AppendAsync("retailer", "contract.signed", "t/ok");
        var failing = _db.WriteAsync<int>((c, tx) =>
        {
            _log.Append(c, tx, "retailer", "contract.drafted", "contract/y");
            throw new InvalidOperationException("refused");
        });
        var ok2 = _log.AppendAsync("retailer", "contract.signed", "t/ok2");
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        var last = await ok2;
        Assert.Equal(3, (await ok).Seq);
        Assert.Equal(4, last.Seq);

        Assert.Equal(5, _log.Size);
        var export = _log.Export();
        Assert.Equal(5, export.Entries.Count);
        Assert.DoesNotContain(export.Entries, e => e.Action == "contract.drafted");
        Assert.True(AuditVerifier.Verify(export, _identity.PublicKey).IsValid);
        Assert.True(AuditVerifier.VerifyReceipt(_log.Receipt(4)!, _identity.PublicKey).IsValid);
    }

    [Fact]
    public async Task The_tree_is_rebuilt_from_the_database_after_a_restart()
    {
        await AppendAsync(9);
        var saved = _log.CurrentCheckpoint();
        using var reopenedDb = new Database(Path.Combine(_dir, "cleanroom.db"));
        var reopened = new AuditLog(reopenedDb, _identity, TimeProvider.System);
        Assert.Equal(9, reopened.Size);
        await reopened.AppendAsync("advertiser", "contract.signed", "t/after");
        Assert.True(AuditVerifier.VerifyConsistency(saved, reopened.CurrentCheckpoint(), reopened.ConsistencyProof(9)!).IsValid);
        Assert.True(AuditVerifier.VerifyReceipt(reopened.Receipt(9)!).IsValid);
    }

    [Fact]
    public void Out_of_range_proofs_are_refused()
    {
        Assert.Null(_log.InclusionProof(0));
        Assert.Null(_log.ConsistencyProof(1));
        Assert.Null(_log.InclusionProof(-1, 0));
    }
}

using CleanRoom.Core;
using NSec.Cryptography;

namespace CleanRoom.Core.Tests;

public sealed class AuditVerifierTests : IDisposable
{
    private readonly Key _serverKey = Key.Create(SignatureAlgorithm.Ed25519);

    private string ServerKey => Hashing.B64Url(_serverKey.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    private List<AuditEntry> Chain(int n)
    {
        var entries = new List<AuditEntry>();
        var prev = AuditEntry.GenesisPrev;
        for (var i = 0; i < n; i++)
        {
            var e = new AuditEntry
            {
                Seq = i,
                Time = DateTimeOffset.UnixEpoch.AddMinutes(i),
                Actor = i % 2 == 0 ? "retailer" : "enclave:abc",
                Action = "job.started",
                Target = "job/" + i,
                Outcome = "ok",
                Prev = prev,
            };
            entries.Add(e);
            prev = e.Hash();
        }

        return entries;
    }

    private AuditExport Export(List<AuditEntry> signedOver, List<AuditEntry>? shipped = null)
    {
        var head = signedOver.Count == 0 ? AuditEntry.GenesisPrev : signedOver[^1].Hash();
        var cp = new AuditCheckpoint(AuditCheckpoint.LogName, signedOver.Count, head, AuditMerkle.Root(signedOver), DateTimeOffset.UnixEpoch);
        return new AuditExport(ServerKey, Jws.Sign(cp, _serverKey, StatementTypes.AuditCheckpoint), shipped ?? signedOver);
    }

    [Fact]
    public void An_intact_log_verifies()
    {
        var result = AuditVerifier.Verify(Export(Chain(10)), ServerKey);
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(10, result.Checkpoint!.Size);
    }

    [Fact]
    public void An_edited_entry_is_detected()
    {
        var entries = Chain(10);
        var export = Export(entries);
        var edited = entries.ToList();
        edited[4] = edited[4] with { Outcome = "refused" };
        var result = AuditVerifier.Verify(export with { Entries = edited }, ServerKey);
        Assert.False(result.IsValid);
        Assert.Equal("audit.chain_broken", result.ErrorCode);
    }

    [Fact]
    public void Editing_the_last_entry_is_detected_by_the_signed_head()
    {
        var entries = Chain(5);
        var export = Export(entries);
        var edited = entries.ToList();
        edited[4] = edited[4] with { Actor = "someone-else" };
        Assert.Equal("audit.head_mismatch", AuditVerifier.Verify(export with { Entries = edited }, ServerKey).ErrorCode);
    }

    [Fact]
    public void A_deleted_entry_is_detected()
    {
        var entries = Chain(10);
        var export = Export(entries);
        var shortened = entries.Where(e => e.Seq != 3).ToList();
        Assert.Equal("audit.sequence_broken", AuditVerifier.Verify(export with { Entries = shortened }, ServerKey).ErrorCode);
    }

    [Fact]
    public void Reordered_entries_are_detected()
    {
        var entries = Chain(10);
        var export = Export(entries);
        var swapped = entries.ToList();
        (swapped[2], swapped[3]) = (swapped[3], swapped[2]);
        Assert.False(AuditVerifier.Verify(export with { Entries = swapped }, ServerKey).IsValid);
    }

    [Fact]
    public void A_truncated_tail_is_detected_by_the_checkpoint_size()
    {
        var entries = Chain(10);
        var export = Export(entries);
        Assert.Equal("audit.size_mismatch", AuditVerifier.Verify(export with { Entries = entries.Take(8).ToList() }, ServerKey).ErrorCode);
    }

    [Fact]
    public void A_rewritten_history_with_a_forged_checkpoint_fails_under_the_pinned_key()
    {
        using var attacker = Key.Create(SignatureAlgorithm.Ed25519);
        var entries = Chain(3);
        var cp = new AuditCheckpoint(AuditCheckpoint.LogName, 3, entries[^1].Hash(), AuditMerkle.Root(entries), DateTimeOffset.UnixEpoch);
        var forged = new AuditExport(Hashing.B64Url(attacker.PublicKey.Export(KeyBlobFormat.RawPublicKey)), Jws.Sign(cp, attacker, StatementTypes.AuditCheckpoint), entries);
        Assert.Equal("audit.server_key_mismatch", AuditVerifier.Verify(forged, ServerKey).ErrorCode);
    }

    [Fact]
    public void A_checkpoint_signature_by_another_key_fails()
    {
        using var attacker = Key.Create(SignatureAlgorithm.Ed25519);
        var entries = Chain(3);
        var cp = new AuditCheckpoint(AuditCheckpoint.LogName, 3, entries[^1].Hash(), AuditMerkle.Root(entries), DateTimeOffset.UnixEpoch);
        var export = new AuditExport(ServerKey, Jws.Sign(cp, attacker, StatementTypes.AuditCheckpoint), entries);
        Assert.Equal("audit.checkpoint_signature", AuditVerifier.Verify(export, null).ErrorCode);
    }

    [Fact]
    public void A_checkpoint_of_another_log_signed_by_the_server_key_fails()
    {
        // Found in review: the log name was only required to be non-empty.
        var entries = Chain(3);
        var cp = new AuditCheckpoint("some-other-log", 3, entries[^1].Hash(), AuditMerkle.Root(entries), DateTimeOffset.UnixEpoch);
        var export = new AuditExport(ServerKey, Jws.Sign(cp, _serverKey, StatementTypes.AuditCheckpoint), entries);

        var result = AuditVerifier.Verify(export, ServerKey);

        Assert.Equal("audit.checkpoint_malformed", result.ErrorCode);
        Assert.Contains("some-other-log", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[null]")]
    public void An_export_whose_entries_are_missing_or_null_is_refused_not_thrown(string entries)
    {
        // Found in review: a hand-edited export file threw a NullReferenceException out of `audit verify`.
        var genuine = Export(Chain(1));
        var json = "{\"serverKey\":\"" + ServerKey + "\",\"checkpoint\":\"" + genuine.Checkpoint + "\",\"entries\":" + entries + "}";
        var export = System.Text.Json.JsonSerializer.Deserialize<AuditExport>(json, CanonicalJson.SerializerOptions)!;
        var saved = new SignedAuditCheckpoint(SignedAuditCheckpoint.FormatV1, ServerKey, genuine.Checkpoint);

        Assert.Equal("audit.malformed", AuditVerifier.Verify(export, ServerKey).ErrorCode);
        Assert.Equal("audit.malformed", AuditVerifier.VerifyExtends(export, saved, ServerKey).ErrorCode);
    }

    [Fact]
    public void A_receipt_without_an_entry_or_proof_is_refused_not_thrown()
    {
        var genuine = Export(Chain(1));
        var json = "{\"serverKey\":\"" + ServerKey + "\",\"checkpoint\":\"" + genuine.Checkpoint + "\",\"entry\":null,\"proof\":null}";
        var receipt = System.Text.Json.JsonSerializer.Deserialize<AuditReceipt>(json, CanonicalJson.SerializerOptions)!;

        Assert.Equal("audit.malformed", AuditVerifier.VerifyReceipt(receipt, ServerKey).ErrorCode);
    }

    public void Dispose() => _serverKey.Dispose();
}

namespace CleanRoom.Core;

/// <summary>
/// Checks an exported audit log offline: the hash chain, the sequence numbers, the signed
/// checkpoint over the last entry and, optionally, that the export extends a checkpoint the
/// party saved earlier.
/// </summary>
public static class AuditVerifier
{
    public static AuditVerification Verify(AuditExport export, string? pinnedServerKey = null, Func<IReadOnlyList<AuditEntry>, string>? merkleRoot = null)
    {
        if (pinnedServerKey is not null && pinnedServerKey != export.ServerKey)
        {
            return AuditVerification.Fail("audit.server_key_mismatch", "the export is signed by a different server key than the one pinned");
        }

        var prev = AuditEntry.GenesisPrev;
        for (var i = 0; i < export.Entries.Count; i++)
        {
            var e = export.Entries[i];
            if (e.Seq != i)
            {
                return AuditVerification.Fail("audit.sequence_broken", $"entry at position {i} carries sequence number {e.Seq}: an entry was removed, inserted or reordered");
            }

            if (e.Prev != prev)
            {
                return AuditVerification.Fail("audit.chain_broken", $"entry {i} does not link to the hash of entry {i - 1}: an entry was edited, removed or reordered");
            }

            prev = e.Hash();
        }

        var checkpoint = Jws.Verify(export.Checkpoint, export.ServerKey, StatementTypes.AuditCheckpoint);
        if (!checkpoint.IsValid)
        {
            return AuditVerification.Fail("audit.checkpoint_signature", "the log checkpoint's signature does not verify: " + checkpoint.Reason);
        }

        var cp = checkpoint.Jws!.PayloadAs<AuditCheckpoint>();
        if (cp is null)
        {
            return AuditVerification.Fail("audit.checkpoint_malformed", "the log checkpoint payload is not a checkpoint");
        }

        if (cp.Size != export.Entries.Count)
        {
            return AuditVerification.Fail("audit.size_mismatch", $"the signed checkpoint covers {cp.Size} entries but the export holds {export.Entries.Count}: entries were removed or added");
        }

        if (cp.Head != prev)
        {
            return AuditVerification.Fail("audit.head_mismatch", "the last entry's hash differs from the signed checkpoint's head: the log was edited");
        }

        if (merkleRoot is not null && cp.MerkleRoot != merkleRoot(export.Entries))
        {
            return AuditVerification.Fail("audit.root_mismatch", "the Merkle root of the entries differs from the signed checkpoint's root: the log was edited");
        }

        return AuditVerification.Ok(cp);
    }
}

public sealed record AuditVerification
{
    public bool IsValid { get; private init; }

    public string? ErrorCode { get; private init; }

    public string? Reason { get; private init; }

    public AuditCheckpoint? Checkpoint { get; private init; }

    public static AuditVerification Fail(string code, string reason) => new() { ErrorCode = code, Reason = reason };

    public static AuditVerification Ok(AuditCheckpoint cp) => new() { IsValid = true, Checkpoint = cp };
}

using CleanRoom.Transparency;

namespace CleanRoom.Core;

/// <summary>
/// Checks an exported audit log offline: the hash chain, the sequence numbers, the Merkle root and
/// the signed checkpoint over the last entry; that the log extends a checkpoint the party saved
/// earlier (RFC 9162 §2.1.4 consistency); and that an entry is in the log (§2.1.3 inclusion).
/// </summary>
public static class AuditVerifier
{
    // Entries hashed per parallel work item.
    private const int HashChunk = 4096;

    /// <summary>Verifies <paramref name="export"/>: chain, sequence, signed checkpoint and the Merkle root recomputed from the entries.</summary>
    public static AuditVerification Verify(AuditExport export, string? pinnedServerKey = null) =>
        VerifyCore(export, pinnedServerKey, out _);

    /// <summary>Verifies a signed checkpoint on its own: format, signature and payload.</summary>
    public static AuditVerification VerifyCheckpoint(SignedAuditCheckpoint signed, string? pinnedServerKey = null)
    {
        ArgumentNullException.ThrowIfNull(signed);
        return ReadSaved(signed, pinnedServerKey);
    }

    /// <summary>
    /// Verifies <paramref name="export"/> and that it extends <paramref name="saved"/>: a log shorter
    /// than the saved checkpoint was rolled back; one whose first entries differ from those the
    /// saved checkpoint signed was forked. The consistency proof is computed from the entries.
    /// </summary>
    public static AuditVerification VerifyExtends(AuditExport export, SignedAuditCheckpoint saved, string? pinnedServerKey = null)
    {
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(saved);
        var old = ReadSaved(saved, pinnedServerKey);
        if (!old.IsValid)
        {
            return old;
        }

        if (!string.Equals(export.ServerKey, saved.ServerKey, StringComparison.Ordinal))
        {
            return AuditVerification.Fail("audit.server_key_changed", "the log is signed by a different server key than the saved checkpoint: it is not the same log");
        }

        var current = VerifyCore(export, pinnedServerKey, out var tree);
        if (!current.IsValid)
        {
            return current;
        }

        var was = old.Checkpoint!;
        var now = current.Checkpoint!;
        if (now.Size < was.Size)
        {
            return RolledBack(was, now);
        }

        var proof = tree!.ConsistencyProof(was.Size, now.Size);
        if (!TryHex(was.MerkleRoot, out var oldRoot)
            || !MerkleProofs.VerifyConsistency(was.Size, now.Size, oldRoot, tree.Root(now.Size), proof)
            || (was.Size > 0 && export.Entries[(int)was.Size - 1].Hash() != was.Head))
        {
            return Forked(was);
        }

        return current;
    }

    /// <summary>
    /// Verifies online evidence that the log now at <paramref name="current"/> extends
    /// <paramref name="saved"/>, with the server's consistency proof.
    /// </summary>
    public static AuditVerification VerifyConsistency(SignedAuditCheckpoint saved, SignedAuditCheckpoint current, AuditConsistencyProof proof, string? pinnedServerKey = null)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proof);
        var old = ReadSaved(saved, pinnedServerKey);
        if (!old.IsValid)
        {
            return old;
        }

        if (!string.Equals(current.ServerKey, saved.ServerKey, StringComparison.Ordinal))
        {
            return AuditVerification.Fail("audit.server_key_changed", "the server now signs with a different key than the saved checkpoint: it is not the same log");
        }

        var now = ReadCheckpoint(current.Checkpoint, current.ServerKey, "current");
        if (!now.IsValid)
        {
            return now;
        }

        var was = old.Checkpoint!;
        var cp = now.Checkpoint!;
        if (cp.Size < was.Size)
        {
            return RolledBack(was, cp);
        }

        if (proof.FromSize != was.Size || proof.ToSize != cp.Size)
        {
            return AuditVerification.Fail("audit.proof_mismatch", $"the consistency proof is for sizes {proof.FromSize}→{proof.ToSize}, not {was.Size}→{cp.Size}");
        }

        if (!TryHex(was.MerkleRoot, out var oldRoot) || !TryHex(cp.MerkleRoot, out var newRoot) || !TryHexList(proof.Hashes, out var hashes)
            || !MerkleProofs.VerifyConsistency(was.Size, cp.Size, oldRoot, newRoot, hashes)
            || (was.Size == cp.Size && was.Head != cp.Head))
        {
            return Forked(was);
        }

        return now;
    }

    /// <summary>
    /// Verifies that <paramref name="receipt"/>'s entry is in the log: its inclusion proof leads to
    /// the Merkle root of a checkpoint signed by the receipt's server key (which must equal
    /// <paramref name="pinnedServerKey"/> when given).
    /// </summary>
    public static AuditVerification VerifyReceipt(AuditReceipt receipt, string? pinnedServerKey = null)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        if (receipt.Entry is null || receipt.Proof is null)
        {
            return AuditVerification.Fail("audit.malformed", "the audit receipt lacks its entry or its inclusion proof");
        }

        if (pinnedServerKey is not null && pinnedServerKey != receipt.ServerKey)
        {
            return AuditVerification.Fail("audit.server_key_mismatch", "the checkpoint is signed by a different server key than the one pinned");
        }

        var read = ReadCheckpoint(receipt.Checkpoint, receipt.ServerKey, "receipt's");
        if (!read.IsValid)
        {
            return read;
        }

        var cp = read.Checkpoint!;
        var proof = receipt.Proof;
        if (proof.TreeSize != cp.Size || proof.LeafIndex != receipt.Entry.Seq)
        {
            return AuditVerification.Fail("audit.proof_mismatch", $"the inclusion proof is not for entry {receipt.Entry.Seq} in the signed tree of {cp.Size} entries");
        }

        var leaf = MerkleHash.LeafHash(receipt.Entry.CanonicalBytes());
        if (!TryHex(cp.MerkleRoot, out var root) || !TryHexList(proof.Hashes, out var hashes)
            || !MerkleProofs.VerifyInclusion(proof.LeafIndex, proof.TreeSize, leaf, hashes, root))
        {
            return AuditVerification.Fail("audit.not_included", $"the inclusion proof does not lead from entry {receipt.Entry.Seq} to the signed Merkle root: the entry or the proof was altered");
        }

        return read;
    }

    private static AuditVerification VerifyCore(AuditExport export, string? pinnedServerKey, out MerkleTree? tree)
    {
        tree = null;
        ArgumentNullException.ThrowIfNull(export);

        // A file read from disk may say "entries": null or hold a null entry; refuse it as a value, never a NullReferenceException.
        if (export.Entries is null || export.Entries.Contains(null!))
        {
            return AuditVerification.Fail("audit.malformed", "the export's entries are missing or include a null entry: it is not an audit export");
        }

        if (pinnedServerKey is not null && pinnedServerKey != export.ServerKey)
        {
            return AuditVerification.Fail("audit.server_key_mismatch", "the export is signed by a different server key than the one pinned");
        }

        // Each entry is serialized once; the same bytes give its chain hash and its Merkle leaf.
        // Entries hash independently, so that part runs on every core.
        var entries = export.Entries;
        var count = entries.Count;
        var hashes = new string[count];
        var leaves = new byte[count * (long)MerkleHash.HashSize];
        Parallel.For(0, (count + HashChunk - 1) / HashChunk, chunk =>
        {
            var end = Math.Min(count, (chunk + 1) * HashChunk);
            for (var i = chunk * HashChunk; i < end; i++)
            {
                var bytes = entries[i].CanonicalBytes();
                hashes[i] = Hashing.Sha256Hex(bytes);
                MerkleHash.LeafHash(bytes, leaves.AsSpan(i * MerkleHash.HashSize, MerkleHash.HashSize));
            }
        });

        var built = new MerkleTree();
        var prev = AuditEntry.GenesisPrev;
        for (var i = 0; i < count; i++)
        {
            var e = entries[i];
            if (e.Seq != i)
            {
                return AuditVerification.Fail("audit.sequence_broken", $"entry at position {i} carries sequence number {e.Seq}: an entry was removed, inserted or reordered");
            }

            if (e.Prev != prev)
            {
                return AuditVerification.Fail("audit.chain_broken", $"entry {i} does not link to the hash of entry {i - 1}: an entry was edited, removed or reordered");
            }

            prev = hashes[i];
            built.AppendLeafHash(leaves.AsSpan(i * MerkleHash.HashSize, MerkleHash.HashSize));
        }

        var checkpoint = ReadCheckpoint(export.Checkpoint, export.ServerKey, "log");
        if (!checkpoint.IsValid)
        {
            return checkpoint;
        }

        var cp = checkpoint.Checkpoint!;
        if (cp.Size != export.Entries.Count)
        {
            return AuditVerification.Fail("audit.size_mismatch", $"the signed checkpoint covers {cp.Size} entries but the export holds {export.Entries.Count}: entries were removed or added");
        }

        if (cp.Head != prev)
        {
            return AuditVerification.Fail("audit.head_mismatch", "the last entry's hash differs from the signed checkpoint's head: the log was edited");
        }

        var root = Convert.ToHexStringLower(built.Root());
        if (cp.MerkleRoot != root)
        {
            return AuditVerification.Fail("audit.root_mismatch", "the Merkle root of the entries differs from the signed checkpoint's root: the log was edited");
        }

        tree = built;
        return checkpoint;
    }

    private static AuditVerification ReadSaved(SignedAuditCheckpoint saved, string? pinnedServerKey)
    {
        if (saved.Format != SignedAuditCheckpoint.FormatV1)
        {
            return AuditVerification.Fail("audit.saved_checkpoint_malformed", $"the saved checkpoint's format is not {SignedAuditCheckpoint.FormatV1}");
        }

        if (pinnedServerKey is not null && pinnedServerKey != saved.ServerKey)
        {
            return AuditVerification.Fail("audit.server_key_mismatch", "the saved checkpoint is signed by a different server key than the one pinned");
        }

        return ReadCheckpoint(saved.Checkpoint, saved.ServerKey, "saved");
    }

    private static AuditVerification ReadCheckpoint(string jws, string serverKey, string which)
    {
        var checkpoint = Jws.Verify(jws, serverKey, StatementTypes.AuditCheckpoint);
        if (!checkpoint.IsValid)
        {
            return AuditVerification.Fail("audit.checkpoint_signature", $"the {which} checkpoint's signature does not verify: " + checkpoint.Reason);
        }

        AuditCheckpoint? cp;
        try
        {
            cp = checkpoint.Jws!.PayloadAs<AuditCheckpoint>();
        }
        catch (System.Text.Json.JsonException)
        {
            cp = null;
        }

        if (cp is null || string.IsNullOrEmpty(cp.Log) || cp.Size < 0 || cp.Head is null || cp.MerkleRoot is null)
        {
            return AuditVerification.Fail("audit.checkpoint_malformed", $"the {which} checkpoint payload is not an audit checkpoint");
        }

        // Bound even though one key signs one log today: a checkpoint of another log under the same key proves nothing here.
        if (cp.Log != AuditCheckpoint.LogName)
        {
            return AuditVerification.Fail("audit.checkpoint_malformed", $"the {which} checkpoint is of log '{(cp.Log.Length > 40 ? cp.Log[..40] + "…" : cp.Log)}', not {AuditCheckpoint.LogName}");
        }

        return AuditVerification.Ok(cp);
    }

    private static AuditVerification RolledBack(AuditCheckpoint was, AuditCheckpoint now) =>
        AuditVerification.Fail("audit.rolled_back", $"the log holds {now.Size} entries but the checkpoint saved at {was.Time:u} covered {was.Size}: the log was rolled back");

    private static AuditVerification Forked(AuditCheckpoint was) =>
        AuditVerification.Fail("audit.forked", $"the log's first {was.Size} entries differ from those the checkpoint saved at {was.Time:u} signed: the history was rewritten (fork)");

    private static bool TryHex(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is not { Length: 2 * MerkleHash.HashSize })
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryHexList(IReadOnlyList<string>? hexes, out byte[][] hashes)
    {
        hashes = [];
        if (hexes is null || hexes.Count > 64)
        {
            return false;
        }

        var result = new byte[hexes.Count][];
        for (var i = 0; i < hexes.Count; i++)
        {
            if (!TryHex(hexes[i], out result[i]))
            {
                return false;
            }
        }

        hashes = result;
        return true;
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

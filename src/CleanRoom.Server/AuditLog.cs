using System.Text;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Transparency;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// Append-only hash-chained audit log in SQLite, with the RFC 9162 Merkle tree over its entries
/// kept in memory. Appends happen inside the caller's write transaction, so a state change and its
/// audit entry commit together or not at all; the tree takes a leaf only once the transaction that
/// wrote it has committed (see <see cref="ITransactionParticipant"/>), so a rolled-back write never
/// leaves a leaf behind.
/// </summary>
public sealed class AuditLog : ITransactionParticipant
{
    public const string LogName = AuditCheckpoint.LogName;

    // How long a reader waits for the tree to catch up with a commit it already sees in SQLite;
    // the writer applies the leaves right after the commit, so this is microseconds in practice.
    private static readonly TimeSpan s_catchUpLimit = TimeSpan.FromSeconds(5);

    private readonly Database _db;
    private readonly ServerIdentity _identity;
    private readonly TimeProvider _time;

    // Written by the writer thread only (Append runs inside Database.WriteAsync work).
    private readonly List<Pending> _pending = [];
    private int _savepoint;

    private MerkleTree _tree;
    private TreeState _state;

    public AuditLog(Database db, ServerIdentity identity, TimeProvider time)
    {
        _db = db;
        _identity = identity;
        _time = time;
        (_tree, _state) = Load(db);
        db.Enlist(this);
    }

    /// <summary>Number of entries committed and in the tree.</summary>
    public long Size => Volatile.Read(ref _state).Size;

    public AuditEntry Append(SqliteConnection c, SqliteTransaction tx, string actor, string action, string target, string outcome = "ok", string? reasonCode = null, string? reason = null)
    {
        long seq;
        string prev;
        using (var cmd = Database.Command(c, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;", tx))
        using (var r = cmd.ExecuteReader())
        {
            if (r.Read())
            {
                seq = r.GetInt64(0) + 1;
                prev = r.GetString(1);
            }
            else
            {
                seq = 0;
                prev = AuditEntry.GenesisPrev;
            }
        }

        var entry = new AuditEntry
        {
            Seq = seq,
            Time = _time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Outcome = outcome,
            ReasonCode = reasonCode,
            Reason = reason,
            Prev = prev,
        };
        var bytes = entry.CanonicalBytes();
        var hash = Hashing.Sha256Hex(bytes);
        Database.Exec(c, "INSERT INTO audit_log (seq, entry, hash) VALUES ($s, $e, $h);", tx, ("$s", seq), ("$e", Encoding.UTF8.GetString(bytes)), ("$h", hash));
        _pending.Add(new Pending(seq, MerkleHash.LeafHash(bytes), hash));
        return entry;
    }

    /// <summary>Appends one entry in its own transaction (for refusals that change no other state); completes once it is durable.</summary>
    public Task<AuditEntry> AppendAsync(string actor, string action, string target, string outcome = "ok", string? reasonCode = null, string? reason = null, CancellationToken cancellationToken = default) =>
        _db.WriteAsync((c, tx) => Append(c, tx, actor, action, target, outcome, reasonCode, reason), cancellationToken);

    public AuditExport Export()
    {
        var entries = new List<AuditEntry>();
        using (var c = _db.Open())
        using (var tx = c.BeginTransaction())
        using (var cmd = Database.Command(c, "SELECT entry FROM audit_log ORDER BY seq;", tx))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                entries.Add(JsonSerializer.Deserialize<AuditEntry>(r.GetString(0), CanonicalJson.SerializerOptions)!);
            }
        }

        var head = entries.Count == 0 ? AuditEntry.GenesisPrev : entries[^1].Hash();
        return new AuditExport(_identity.PublicKey, SignCheckpoint(entries.Count, head, RootAt(entries.Count)), entries);
    }

    /// <summary>The server's signed checkpoint over the log as it is now.</summary>
    public SignedAuditCheckpoint CurrentCheckpoint()
    {
        var state = Volatile.Read(ref _state);
        return new SignedAuditCheckpoint(SignedAuditCheckpoint.FormatV1, _identity.PublicKey, SignCheckpoint(state.Size, state.Head, RootAt(state.Size)));
    }

    /// <summary>
    /// The inclusion proof of entry <paramref name="index"/> in the tree of <paramref name="treeSize"/>
    /// entries (the current size when null), or null when the range is outside the log.
    /// </summary>
    public AuditInclusionProof? InclusionProof(long index, long? treeSize = null)
    {
        var tree = Volatile.Read(ref _tree);
        var size = treeSize ?? tree.Size;
        if (index < 0 || size > tree.Size || index >= size)
        {
            return null;
        }

        return new AuditInclusionProof(index, size, tree.InclusionProof(index, size).Select(Convert.ToHexStringLower).ToList());
    }

    /// <summary>The consistency proof from <paramref name="fromSize"/> to <paramref name="toSize"/> (the current size when null), or null when out of range.</summary>
    public AuditConsistencyProof? ConsistencyProof(long fromSize, long? toSize = null)
    {
        var tree = Volatile.Read(ref _tree);
        var size = toSize ?? tree.Size;
        if (fromSize < 0 || size > tree.Size || fromSize > size)
        {
            return null;
        }

        return new AuditConsistencyProof(fromSize, size, tree.ConsistencyProof(fromSize, size).Select(Convert.ToHexStringLower).ToList());
    }

    /// <summary>
    /// The receipt that entry <paramref name="index"/> is in the log: the entry, its inclusion proof
    /// and a checkpoint of the same size signed now.
    /// </summary>
    public AuditReceipt? Receipt(long index)
    {
        WaitForSize(index + 1);
        var state = Volatile.Read(ref _state);
        if (index < 0 || index >= state.Size)
        {
            return null;
        }

        string entryJson;
        using (var c = _db.Open())
        {
            entryJson = (string)Database.Scalar(c, "SELECT entry FROM audit_log WHERE seq = $s;", null, ("$s", index))!;
        }

        var entry = JsonSerializer.Deserialize<AuditEntry>(entryJson, CanonicalJson.SerializerOptions)!;
        var proof = InclusionProof(index, state.Size)!;
        return new AuditReceipt(_identity.PublicKey, SignCheckpoint(state.Size, state.Head, RootAt(state.Size)), entry, proof);
    }

    void ITransactionParticipant.Savepoint() => _savepoint = _pending.Count;

    void ITransactionParticipant.RollbackToSavepoint() => _pending.RemoveRange(_savepoint, _pending.Count - _savepoint);

    void ITransactionParticipant.RolledBack() => _pending.Clear();

    void ITransactionParticipant.Committed()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var tree = _tree;
        if (_pending[0].Seq != tree.Size)
        {
            // Something wrote the log outside this instance: rebuild from the durable rows.
            _pending.Clear();
            var (reloaded, state) = Load(_db);
            Volatile.Write(ref _tree, reloaded);
            Volatile.Write(ref _state, state);
            return;
        }

        foreach (var p in _pending)
        {
            tree.AppendLeafHash(p.LeafHash);
        }

        Volatile.Write(ref _state, new TreeState(tree.Size, _pending[^1].Hash));
        _pending.Clear();
    }

    private string SignCheckpoint(long size, string head, string merkleRoot)
    {
        var cp = new AuditCheckpoint(LogName, size, head, merkleRoot, _time.GetUtcNow());
        return Jws.Sign(cp, _identity.SigningKey, StatementTypes.AuditCheckpoint);
    }

    private string RootAt(long size)
    {
        WaitForSize(size);
        return Convert.ToHexStringLower(Volatile.Read(ref _tree).Root(size));
    }

    // A reader may see rows of a commit whose leaves the writer is still adding to the tree.
    private void WaitForSize(long size)
    {
        var deadline = Environment.TickCount64 + (long)s_catchUpLimit.TotalMilliseconds;
        var spin = default(SpinWait);
        while (Volatile.Read(ref _state).Size < size)
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new InvalidOperationException($"the audit tree holds {Size} entries but the database holds at least {size}");
            }

            spin.SpinOnce();
        }
    }

    private static (MerkleTree Tree, TreeState State) Load(Database db)
    {
        var tree = new MerkleTree();
        var head = AuditEntry.GenesisPrev;
        using var c = db.Open();
        using var cmd = Database.Command(c, "SELECT seq, entry, hash FROM audit_log ORDER BY seq;", null);
        using var r = cmd.ExecuteReader();
        Span<byte> leaf = stackalloc byte[MerkleHash.HashSize];
        while (r.Read())
        {
            if (r.GetInt64(0) != tree.Size)
            {
                throw new InvalidOperationException($"the audit log has a gap: entry {tree.Size} is missing");
            }

            MerkleHash.LeafHash(Encoding.UTF8.GetBytes(r.GetString(1)), leaf);
            tree.AppendLeafHash(leaf);
            head = r.GetString(2);
        }

        return (tree, new TreeState(tree.Size, head));
    }

    private sealed record TreeState(long Size, string Head);

    private readonly record struct Pending(long Seq, byte[] LeafHash, string Hash);
}

using System.Text.Json;
using CleanRoom.Core;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// Append-only hash-chained audit log in SQLite. Appends happen inside the caller's write
/// transaction, so a state change and its audit entry commit together or not at all.
/// </summary>
public sealed class AuditLog(Database db, ServerIdentity identity, TimeProvider time)
{
    public const string LogName = "cleanroom-audit-v1";

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
            Time = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Target = target,
            Outcome = outcome,
            ReasonCode = reasonCode,
            Reason = reason,
            Prev = prev,
        };
        var json = System.Text.Encoding.UTF8.GetString(entry.CanonicalBytes());
        Database.Exec(c, "INSERT INTO audit_log (seq, entry, hash) VALUES ($s, $e, $h);", tx, ("$s", seq), ("$e", json), ("$h", entry.Hash()));
        return entry;
    }

    /// <summary>Appends one entry in its own transaction (for refusals that change no other state).</summary>
    public Task<AuditEntry> AppendAsync(string actor, string action, string target, string outcome = "ok", string? reasonCode = null, string? reason = null, CancellationToken cancellationToken = default) =>
        db.WriteAsync((c, tx) => Append(c, tx, actor, action, target, outcome, reasonCode, reason), cancellationToken);

    public AuditExport Export()
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
        var entries = new List<AuditEntry>();
        using (var cmd = Database.Command(c, "SELECT entry FROM audit_log ORDER BY seq;", tx))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                entries.Add(JsonSerializer.Deserialize<AuditEntry>(r.GetString(0), CanonicalJson.SerializerOptions)!);
            }
        }

        var checkpoint = Checkpoint(entries);
        return new AuditExport(identity.PublicKey, checkpoint, entries);
    }

    public string Checkpoint(IReadOnlyList<AuditEntry> entries)
    {
        var head = entries.Count == 0 ? AuditEntry.GenesisPrev : entries[^1].Hash();
        var cp = new AuditCheckpoint(LogName, entries.Count, head, AuditMerkle.Root(entries), time.GetUtcNow());
        return Jws.Sign(cp, identity.SigningKey, StatementTypes.AuditCheckpoint);
    }
}

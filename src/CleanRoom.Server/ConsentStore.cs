using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// Consent revocations in force. A data provider can revoke consent for one of its datasets, for a
/// computation that reads its data, or for the whole contract. Every check here runs inside the same
/// write transaction as the action it guards, so a revocation takes effect at once.
/// </summary>
public static class ConsentStore
{
    public const string ScopeContract = "contract";
    public const string ScopeDataset = "dataset";
    public const string ScopeComputation = "computation";

    /// <summary>Returns a one-line reason if a revocation blocks this computation, else null.</summary>
    public static string? Blocking(SqliteConnection c, SqliteTransaction? tx, string contractId, string computationId, IEnumerable<string> tablesRead)
    {
        using var cmd = Database.Command(c, "SELECT scope, target, party FROM consent_revocations WHERE contract_id = $c ORDER BY revoked_at;", tx, ("$c", contractId));
        using var r = cmd.ExecuteReader();
        var tables = tablesRead.ToHashSet(StringComparer.Ordinal);
        while (r.Read())
        {
            var (scope, target, party) = (r.GetString(0), r.GetString(1), r.GetString(2));
            if (scope == ScopeContract
                || (scope == ScopeDataset && tables.Contains(target))
                || (scope == ScopeComputation && target == computationId))
            {
                return $"consent revoked by '{party}' for {scope} '{target}'";
            }
        }

        return null;
    }

    public static bool Revoke(SqliteConnection c, SqliteTransaction tx, string contractId, string scope, string target, string party, string now) =>
        Database.Scalar(c, "INSERT INTO consent_revocations (contract_id, scope, target, party, revoked_at) VALUES ($c, $s, $t, $p, $n) ON CONFLICT DO NOTHING RETURNING 1;", tx,
            ("$c", contractId), ("$s", scope), ("$t", target), ("$p", party), ("$n", now)) is not null;

    public static bool Restore(SqliteConnection c, SqliteTransaction tx, string contractId, string scope, string target, string party)
    {
        using var cmd = Database.Command(c, "DELETE FROM consent_revocations WHERE contract_id = $c AND scope = $s AND target = $t AND party = $p;", tx,
            ("$c", contractId), ("$s", scope), ("$t", target), ("$p", party));
        return cmd.ExecuteNonQuery() > 0;
    }

    public static List<(string Scope, string Target, string Party, string RevokedAt)> List(SqliteConnection c, SqliteTransaction? tx, string contractId)
    {
        var list = new List<(string, string, string, string)>();
        using var cmd = Database.Command(c, "SELECT scope, target, party, revoked_at FROM consent_revocations WHERE contract_id = $c ORDER BY revoked_at;", tx, ("$c", contractId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)));
        }

        return list;
    }

    /// <summary>
    /// Cancels every queued or running job of the contract that a revocation now blocks and returns
    /// their ids; a cancelled job's result is withheld when the enclave submits it.
    /// </summary>
    public static List<string> CancelBlockedJobs(SqliteConnection c, SqliteTransaction tx, string contractId, string now)
    {
        var candidates = new List<(string Job, string Computation, List<string> Tables)>();
        using (var cmd = Database.Command(c, "SELECT j.id, j.computation_id, m.tables_read FROM jobs j JOIN computations m ON m.id = j.computation_id WHERE j.contract_id = $c AND j.state IN ('queued', 'running');", tx, ("$c", contractId)))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                candidates.Add((r.GetString(0), r.GetString(1), Store.FromJson<List<string>>(r.GetString(2))));
            }
        }

        var cancelled = new List<string>();
        foreach (var (job, computation, tables) in candidates)
        {
            if (Blocking(c, tx, contractId, computation, tables) is { } reason)
            {
                Database.Exec(c, "UPDATE jobs SET state = 'cancelled', reason_code = 'consent.revoked', reason = $r, updated_at = $t WHERE id = $id;", tx,
                    ("$r", "job cancelled: " + reason), ("$t", now), ("$id", job));
                cancelled.Add(job);
            }
        }

        return cancelled;
    }
}

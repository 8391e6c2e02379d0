using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// The SQLite store (WAL mode, synchronous=FULL). Writes go through one queue and one writer:
/// the writer takes every write waiting, runs each under its own savepoint inside one
/// transaction and commits them together (group commit), so that one fsync covers many writes.
/// A write's task completes only after the commit that holds it is durable; a write that throws
/// is rolled back to its savepoint alone and its task faults. Readers run concurrently.
/// </summary>
public sealed class Database : IDisposable
{
    private const int SchemaVersion = 5;

    // Bounds the latency one batch adds to the writes behind it.
    private const int MaxBatch = 1024;

    private readonly string _connectionString;
    // Synchronous continuations: a write wakes the blocked writer thread directly instead of through a thread-pool
    // hop, which took about 1.3 ms on a busy 2-core machine (the key release path waits on this write).
    private readonly Channel<IWriteItem> _queue = Channel.CreateUnbounded<IWriteItem>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly List<ITransactionParticipant> _participants = [];
    private readonly Task _writer;

    public Database(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using (var c = Open())
        {
            Exec(c, "PRAGMA journal_mode=WAL;");
            Migrate(c);
        }

        _writer = Task.Factory.StartNew(WriterLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Wait();
    }

    /// <summary>
    /// Registers in-memory state that must follow the database's transactions (the audit log's
    /// Merkle tree). Its callbacks run on the writer thread.
    /// </summary>
    public void Enlist(ITransactionParticipant participant)
    {
        lock (_participants)
        {
            _participants.Add(participant);
        }
    }

    public SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return c;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction, serialized with every other write; the
    /// task completes once the transaction is committed and durable.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        cancellationToken.ThrowIfCancellationRequested();
        var item = new WriteItem<T>(work, cancellationToken);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(item), this);

        return item.Task;
    }

    private void WriterLoop()
    {
        var batch = new List<IWriteItem>(MaxBatch);
        var ran = new List<IWriteItem>(MaxBatch);
        SqliteConnection? c = null;
        try
        {
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                c ??= Open();
                RunBatch(c, batch, ran, out var connectionBroken);
                if (connectionBroken)
                {
                    c.Dispose();
                    c = null;
                }
            }
        }
        finally
        {
            c?.Dispose();
        }
    }

    private void RunBatch(SqliteConnection c, List<IWriteItem> batch, List<IWriteItem> ran, out bool connectionBroken)
    {
        connectionBroken = false;
        ran.Clear();
        ITransactionParticipant[] participants;
        lock (_participants)
        {
            participants = [.. _participants];
        }

        SqliteTransaction tx;
        try
        {
            tx = c.BeginTransaction(System.Data.IsolationLevel.Serializable);
        }
        catch (Exception ex)
        {
            connectionBroken = true;
            foreach (var item in batch)
            {
                item.Fail(ex);
            }

            return;
        }

        using (tx)
        {
            foreach (var item in batch)
            {
                if (item.IsCancelled)
                {
                    item.Cancel();
                    continue;
                }

                tx.Save("w");
                foreach (var p in participants)
                {
                    p.Savepoint();
                }

                try
                {
                    item.Run(c, tx);
                    tx.Release("w");
                    ran.Add(item);
                }
                catch (Exception ex)
                {
                    tx.Rollback("w");
                    tx.Release("w");
                    foreach (var p in participants)
                    {
                        p.RollbackToSavepoint();
                    }

                    item.Fail(ex);
                }
            }

            try
            {
                tx.Commit();
            }
            catch (Exception ex)
            {
                connectionBroken = true;
                foreach (var p in participants)
                {
                    p.RolledBack();
                }

                foreach (var item in ran)
                {
                    item.Fail(ex);
                }

                return;
            }
        }

        foreach (var p in participants)
        {
            p.Committed();
        }

        foreach (var item in ran)
        {
            item.Succeed();
        }
    }

    public static void Exec(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, sql, tx, args);
        cmd.ExecuteNonQuery();
    }

    public static SqliteCommand Command(SqliteConnection c, string sql, SqliteTransaction? tx, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    public static object? Scalar(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, sql, tx, args);
        var v = cmd.ExecuteScalar();
        return v is DBNull ? null : v;
    }

    private static void Migrate(SqliteConnection c)
    {
        Exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
        var current = Convert.ToInt32(Scalar(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version;") ?? 0L);
        if (current > SchemaVersion)
        {
            throw new InvalidOperationException($"database schema version {current} is newer than this server ({SchemaVersion})");
        }

        if (current < 1)
        {
            using var tx = c.BeginTransaction();
            Exec(c, """
                CREATE TABLE contracts (
                  id TEXT PRIMARY KEY, version INTEGER NOT NULL, document TEXT NOT NULL, hash TEXT NOT NULL,
                  state TEXT NOT NULL, created_at TEXT NOT NULL);
                CREATE TABLE contract_signatures (
                  contract_id TEXT NOT NULL REFERENCES contracts(id), party TEXT NOT NULL, jws TEXT NOT NULL,
                  PRIMARY KEY (contract_id, party));
                CREATE TABLE datasets (
                  contract_id TEXT NOT NULL REFERENCES contracts(id), name TEXT NOT NULL, owner TEXT NOT NULL,
                  state TEXT NOT NULL, key_name TEXT, key_version TEXT, wrapped_key TEXT, ciphertext_sha256 TEXT,
                  ciphertext_length INTEGER, blob_path TEXT, published_at TEXT,
                  PRIMARY KEY (contract_id, name));
                CREATE TABLE broker_keys (
                  name TEXT NOT NULL, version TEXT NOT NULL, private_pkcs8 BLOB NOT NULL, public_pem TEXT NOT NULL,
                  release_policy TEXT NOT NULL, immutable INTEGER NOT NULL, exportable INTEGER NOT NULL, created_at TEXT NOT NULL,
                  PRIMARY KEY (name, version));
                CREATE TABLE computations (
                  id TEXT PRIMARY KEY, contract_id TEXT NOT NULL REFERENCES contracts(id), document TEXT NOT NULL,
                  hash TEXT NOT NULL, state TEXT NOT NULL, required_approvers TEXT NOT NULL, tables_read TEXT NOT NULL,
                  summary TEXT NOT NULL, created_at TEXT NOT NULL);
                CREATE TABLE votes (
                  computation_id TEXT NOT NULL REFERENCES computations(id), party TEXT NOT NULL, decision TEXT NOT NULL,
                  computation_hash TEXT NOT NULL, jws TEXT NOT NULL, PRIMARY KEY (computation_id, party));
                CREATE TABLE jobs (
                  id TEXT PRIMARY KEY, contract_id TEXT NOT NULL, computation_id TEXT NOT NULL REFERENCES computations(id),
                  parameters TEXT NOT NULL, requested_by TEXT NOT NULL, state TEXT NOT NULL, claimed_by TEXT,
                  reason_code TEXT, reason TEXT, result_jws TEXT, audit_index INTEGER,
                  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                CREATE INDEX jobs_state ON jobs(state, created_at);
                CREATE TABLE request_nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
                CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL, hash TEXT NOT NULL);
                INSERT INTO schema_version (version) VALUES (1);
                """, tx);
            tx.Commit();
        }

        if (current < 2)
        {
            // Version 2: consent revocations. A row is a revocation in force; restoring deletes it
            // (the audit log keeps the history).
            using var tx = c.BeginTransaction();
            Exec(c, """
                CREATE TABLE consent_revocations (
                  contract_id TEXT NOT NULL REFERENCES contracts(id), scope TEXT NOT NULL, target TEXT NOT NULL,
                  party TEXT NOT NULL, revoked_at TEXT NOT NULL, PRIMARY KEY (contract_id, scope, target, party));
                INSERT INTO schema_version (version) VALUES (2);
                """, tx);
            tx.Commit();
        }

        if (current < 3)
        {
            // Version 3: the differential-privacy budget ledger (see BudgetLedger). Amounts are exact decimals as
            // text. Charges are never refunded, so the schema refuses to delete or change one, and a running
            // total may only grow in its number of charges.
            using var tx = c.BeginTransaction();
            Exec(c, """
                CREATE TABLE budget_charges (
                  contract_id TEXT NOT NULL REFERENCES contracts(id), dataset TEXT NOT NULL, job_id TEXT NOT NULL REFERENCES jobs(id),
                  epsilon TEXT NOT NULL, delta TEXT NOT NULL, charged_at TEXT NOT NULL,
                  PRIMARY KEY (contract_id, dataset, job_id));
                CREATE TABLE budget_totals (
                  contract_id TEXT NOT NULL REFERENCES contracts(id), dataset TEXT NOT NULL,
                  epsilon_spent TEXT NOT NULL, delta_spent TEXT NOT NULL, charges INTEGER NOT NULL,
                  PRIMARY KEY (contract_id, dataset));
                CREATE TRIGGER budget_charges_no_delete BEFORE DELETE ON budget_charges
                  BEGIN SELECT RAISE(ABORT, 'budget charges are never refunded'); END;
                CREATE TRIGGER budget_charges_no_update BEFORE UPDATE ON budget_charges
                  BEGIN SELECT RAISE(ABORT, 'budget charges are never changed'); END;
                CREATE TRIGGER budget_totals_no_delete BEFORE DELETE ON budget_totals
                  BEGIN SELECT RAISE(ABORT, 'budget totals are never refunded'); END;
                CREATE TRIGGER budget_totals_only_grow BEFORE UPDATE ON budget_totals WHEN new.charges <= old.charges
                  BEGIN SELECT RAISE(ABORT, 'budget totals only grow'); END;
                INSERT INTO schema_version (version) VALUES (3);
                """, tx);
            tx.Commit();
        }

        if (current < 4)
        {
            // Version 4: job leases. A claimed job holds a lease (unix milliseconds) that the enclave's
            // heartbeat renews; an expired lease puts the job back in the queue, up to a bounded number
            // of attempts. Jobs left running by a server without leases get an expired lease, so the
            // first reaping requeues them instead of leaving them running forever.
            using var tx = c.BeginTransaction();
            Exec(c, """
                ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
                UPDATE jobs SET attempts = 1, lease_expires_at = 0 WHERE state = 'running';
                CREATE INDEX jobs_lease ON jobs(state, lease_expires_at);
                INSERT INTO schema_version (version) VALUES (4);
                """, tx);
            tx.Commit();
        }

        if (current < 5)
        {
            // Version 5: the analyst's signed run request (JSON of SignedRunRequest), forwarded to the enclave in the
            // job ticket. Jobs queued before it have none, and the enclave refuses them (fail closed).
            using var tx = c.BeginTransaction();
            Exec(c, """
                ALTER TABLE jobs ADD COLUMN run_request TEXT;
                INSERT INTO schema_version (version) VALUES (5);
                """, tx);
            tx.Commit();
        }
    }
}

using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// The SQLite store (WAL mode, synchronous=FULL). Writers are serialized by one lock so that state
/// transitions and the audit chain stay consistent; readers run concurrently.
/// </summary>
public sealed class Database : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public Database(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var c = Open();
        Exec(c, "PRAGMA journal_mode=WAL;");
        Migrate(c);
    }

    public void Dispose() => _writeLock.Dispose();

    public SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        Exec(c, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return c;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction under the writer lock.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            using var c = Open();
            using var tx = c.BeginTransaction(System.Data.IsolationLevel.Serializable);
            var result = work(c, tx);
            tx.Commit();
            return result;
        }
        finally
        {
            _writeLock.Release();
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
    }
}

using System.Globalization;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>Reads of governance state. Writes live in the endpoint handlers, inside Database.WriteAsync.</summary>
public sealed class Store(Database db)
{
    public static string Json<T>(T value) => JsonSerializer.Serialize(value, CanonicalJson.SerializerOptions);

    public static T FromJson<T>(string json) => JsonSerializer.Deserialize<T>(json, CanonicalJson.SerializerOptions)!;

    public static string Now(TimeProvider t) => t.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    public ContractRow? FindContract(string id)
    {
        using var c = db.Open();
        return FindContract(c, null, id);
    }

    public static ContractRow? FindContract(SqliteConnection c, SqliteTransaction? tx, string id)
    {
        using var cmd = Database.Command(c, "SELECT document, hash, state FROM contracts WHERE id = $id;", tx, ("$id", id));
        using var r = cmd.ExecuteReader();
        return r.Read() ? new ContractRow(FromJson<ContractDocument>(r.GetString(0)), r.GetString(1), r.GetString(2)) : null;
    }

    public static List<SignedStatement> ContractSignatures(SqliteConnection c, SqliteTransaction? tx, string contractId)
    {
        var list = new List<SignedStatement>();
        using var cmd = Database.Command(c, "SELECT party, jws FROM contract_signatures WHERE contract_id = $id ORDER BY party;", tx, ("$id", contractId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new SignedStatement(r.GetString(0), r.GetString(1)));
        }

        return list;
    }

    public static List<DatasetRow> Datasets(SqliteConnection c, SqliteTransaction? tx, string contractId)
    {
        var list = new List<DatasetRow>();
        using var cmd = Database.Command(c, "SELECT name, owner, state, key_name, key_version, wrapped_key, ciphertext_sha256, ciphertext_length, blob_path, published_at FROM datasets WHERE contract_id = $id ORDER BY name;", tx, ("$id", contractId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new DatasetRow(
                r.GetString(0), r.GetString(1), r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetInt64(7), r.IsDBNull(8) ? null : r.GetString(8),
                r.IsDBNull(9) ? null : DateTimeOffset.Parse(r.GetString(9), CultureInfo.InvariantCulture)));
        }

        return list;
    }

    public ContractView ContractView(string id)
    {
        using var c = db.Open();
        var row = FindContract(c, null, id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        return new ContractView(row.Document, row.Hash, row.State, ContractSignatures(c, null, id), Datasets(c, null, id).Select(d => d.ToView()).ToList());
    }

    public static ComputationRow? FindComputation(SqliteConnection c, SqliteTransaction? tx, string id)
    {
        using var cmd = Database.Command(c, "SELECT document, hash, state, required_approvers, tables_read, summary, contract_id FROM computations WHERE id = $id;", tx, ("$id", id));
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new ComputationRow(FromJson<ComputationDocument>(r.GetString(0)), r.GetString(1), r.GetString(2), FromJson<List<string>>(r.GetString(3)), FromJson<List<string>>(r.GetString(4)), r.GetString(5), r.GetString(6))
            : null;
    }

    public static List<SignedStatement> Votes(SqliteConnection c, SqliteTransaction? tx, string computationId)
    {
        var list = new List<SignedStatement>();
        using var cmd = Database.Command(c, "SELECT party, jws FROM votes WHERE computation_id = $id ORDER BY party;", tx, ("$id", computationId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new SignedStatement(r.GetString(0), r.GetString(1)));
        }

        return list;
    }

    /// <summary>Parties whose current vote on the computation is an approval.</summary>
    public static HashSet<string> Approvers(SqliteConnection c, SqliteTransaction? tx, string computationId)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        using var cmd = Database.Command(c, "SELECT party FROM votes WHERE computation_id = $c AND decision = 'approve';", tx, ("$c", computationId));
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            set.Add(r.GetString(0));
        }

        return set;
    }

    public ComputationView ComputationView(string id)
    {
        using var c = db.Open();
        var row = FindComputation(c, null, id) ?? throw ApiException.NotFound("computation.not_found", $"computation '{id}' does not exist");
        return row.ToView(Votes(c, null, id));
    }

    public static JobRow? FindJob(SqliteConnection c, SqliteTransaction? tx, string id)
    {
        using var cmd = Database.Command(c, "SELECT id, contract_id, computation_id, parameters, requested_by, state, claimed_by, reason_code, reason, result_jws, audit_index, created_at, updated_at FROM jobs WHERE id = $id;", tx, ("$id", id));
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadJob(r) : null;
    }

    /// <summary>The analyst's signed run request of a job, as the server authenticated it; null for a job queued without one.</summary>
    public static SignedRunRequest? RunRequest(SqliteConnection c, SqliteTransaction? tx, string jobId) =>
        Database.Scalar(c, "SELECT run_request FROM jobs WHERE id = $id;", tx, ("$id", jobId)) is string json ? FromJson<SignedRunRequest>(json) : null;

    public static JobRow ReadJob(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), FromJson<Dictionary<string, string>>(r.GetString(3)), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9), r.IsDBNull(10) ? null : r.GetInt64(10),
        DateTimeOffset.Parse(r.GetString(11), CultureInfo.InvariantCulture), DateTimeOffset.Parse(r.GetString(12), CultureInfo.InvariantCulture));
}

public sealed record ContractRow(ContractDocument Document, string Hash, string State);

public sealed record DatasetRow(string Name, string Owner, string State, string? KeyName, string? KeyVersion, string? WrappedKey, string? CiphertextSha256, long? CiphertextLength, string? BlobPath, DateTimeOffset? PublishedAt)
{
    public DatasetView ToView() => new(Name, Owner, State, KeyName, KeyVersion, CiphertextSha256, CiphertextLength, PublishedAt);
}

public sealed record ComputationRow(ComputationDocument Document, string Hash, string State, List<string> RequiredApprovers, List<string> Tables, string Summary, string ContractId)
{
    public ComputationView ToView(IReadOnlyList<SignedStatement> votes) => new(Document, Hash, State, RequiredApprovers, votes, Tables, Summary);
}

public sealed record JobRow(string Id, string ContractId, string ComputationId, Dictionary<string, string> Parameters, string RequestedBy, string State, string? ClaimedBy, string? ReasonCode, string? Reason, string? ResultJws, long? AuditIndex, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public JobView ToView() => new(Id, ContractId, ComputationId, RequestedBy, State, ReasonCode, Reason, CreatedAt, UpdatedAt);
}

using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace CleanRoom.Core;

/// <summary>
/// The payload of a result record, signed by the enclave's per-boot Ed25519 key (JWS EdDSA).
/// Everything a verifier needs to tie the output to attested code, approved SQL and published data.
/// The rows themselves are not in the record: the canonical {columns, rows} is sealed with HPKE
/// (RFC 9180, see <see cref="Hpke"/>) to each result recipient, so the server stores only ciphertext.
/// </summary>
public sealed record ResultRecord
{
    public string Format { get; init; } = "cleanroom.result.v2";

    public required string JobId { get; init; }

    public required string ContractId { get; init; }

    public required string ContractHash { get; init; }

    public required string ComputationId { get; init; }

    public required string ComputationHash { get; init; }

    public required string SqlSha256 { get; init; }

    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    public required IReadOnlyList<DatasetDigest> Datasets { get; init; }

    public required string AttestationToken { get; init; }

    public required PrivacyOutcome Privacy { get; init; }

    /// <summary>Index in the audit log of this job's <c>job.started</c> entry (assigned when the enclave claimed it).</summary>
    public required long JobAuditIndex { get; init; }

    public required IReadOnlyList<string> Columns { get; init; }

    public required int RowCount { get; init; }

    /// <summary>One HPKE ciphertext of the canonical output per result recipient.</summary>
    public required IReadOnlyList<ResultOutput> Outputs { get; init; }

    public required string OutputSha256 { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>SHA-256 (hex) of the canonical JSON of {columns, rows}.</summary>
    public static string ComputeOutputDigest(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<JsonElement>> rows) =>
        Hashing.Sha256Hex(SerializeOutput(columns, rows));

    /// <summary>The canonical JSON {"columns":…,"rows":…}: the bytes that are hashed and sealed.</summary>
    public static byte[] SerializeOutput(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<JsonElement>> rows) =>
        CanonicalJson.Serialize(new { columns, rows });

    /// <summary>HPKE info: binds the ciphertext to its job, so it cannot be replayed under another.</summary>
    public static byte[] OutputInfo(string jobId) => Encoding.UTF8.GetBytes("cleanroom result v1 " + jobId);

    /// <summary>HPKE aad: the signed output digest (hex).</summary>
    public static byte[] OutputAad(string outputSha256) => Encoding.UTF8.GetBytes(outputSha256);

    /// <summary>Seals the canonical output to one recipient's X25519 key (AES-256-GCM).</summary>
    public static ResultOutput SealOutput(string recipient, PublicKey encryptionKey, string jobId, string outputSha256, ReadOnlySpan<byte> output)
    {
        var sealedBox = Hpke.Seal(encryptionKey, OutputInfo(jobId), OutputAad(outputSha256), output);
        return new ResultOutput(recipient, Hashing.B64Url(sealedBox.Enc), Hashing.B64Url(sealedBox.Ciphertext));
    }

    /// <summary>
    /// Opens this record's output sealed to <paramref name="recipient"/> and checks that it hashes to
    /// <see cref="OutputSha256"/>; null with a one-line reason when it cannot be opened or does not match.
    /// </summary>
    public ResultTable? TryOpenOutput(string recipient, Key encryptionKey, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(encryptionKey);
        var output = Outputs?.FirstOrDefault(o => o.Recipient == recipient);
        if (output is null)
        {
            reason = $"'{recipient}' is not a recipient of this result (encrypted to {string.Join(", ", Outputs?.Select(o => o.Recipient) ?? [])})";
            return null;
        }

        if (!Hashing.TryFromB64Url(output.Enc, out var enc) || !Hashing.TryFromB64Url(output.Ciphertext, out var ciphertext))
        {
            reason = $"the output sealed to '{recipient}' is not base64url";
            return null;
        }

        var opened = Hpke.Open(encryptionKey, enc, OutputInfo(JobId), OutputAad(OutputSha256), ciphertext);
        if (!opened.IsSuccess)
        {
            reason = $"the output sealed to '{recipient}' does not open with its key for this job and digest: {opened.Reason} [{opened.ErrorCode}]";
            return null;
        }

        if (Hashing.Sha256Hex(opened.Plaintext) != OutputSha256)
        {
            reason = "the decrypted output does not hash to the signed output digest";
            return null;
        }

        ResultTable? table;
        try
        {
            table = JsonSerializer.Deserialize<ResultTable>(opened.Plaintext, CanonicalJson.SerializerOptions);
        }
        catch (JsonException)
        {
            table = null;
        }

        if (table?.Columns is null || table.Rows is null || table.Rows.Count != RowCount || !table.Columns.SequenceEqual(Columns))
        {
            reason = "the decrypted output is not the signed columns and row count";
            return null;
        }

        reason = null;
        return table;
    }
}

public sealed record DatasetDigest(string Name, string CiphertextSha256);

/// <summary>
/// The privacy mode applied and the budget this run charged (ε, δ); aggregate-threshold runs charge none.
/// </summary>
public sealed record PrivacyOutcome(string Mode, int MinDistinctUnits, int SuppressedGroups, decimal EpsilonCharged = 0, decimal DeltaCharged = 0);

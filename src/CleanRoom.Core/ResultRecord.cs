using System.Text.Json;

namespace CleanRoom.Core;

/// <summary>
/// The payload of a result record, signed by the enclave's per-boot Ed25519 key (JWS EdDSA).
/// Everything a verifier needs to tie the rows to attested code, approved SQL and published data.
/// </summary>
public sealed record ResultRecord
{
    public string Format { get; init; } = "cleanroom.result.v1";

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

    public required IReadOnlyList<string> Columns { get; init; }

    public required IReadOnlyList<IReadOnlyList<JsonElement>> Rows { get; init; }

    public required string OutputSha256 { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>SHA-256 (hex) of the canonical JSON of {columns, rows}.</summary>
    public static string ComputeOutputDigest(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<JsonElement>> rows) =>
        Hashing.Sha256Hex(CanonicalJson.Serialize(new { columns, rows }));
}

public sealed record DatasetDigest(string Name, string CiphertextSha256);

public sealed record PrivacyOutcome(string Mode, int MinDistinctUnits, int SuppressedGroups);

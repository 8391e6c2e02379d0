namespace CleanRoom.Core;

/// <summary>
/// One record of the audit log. <see cref="Prev"/> is the hash of the previous entry, so editing,
/// deleting or reordering any entry breaks the chain; the leaf hash also feeds the Merkle tree.
/// </summary>
public sealed record AuditEntry
{
    public required long Seq { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>Party name, "enclave", "server" or "anonymous".</summary>
    public required string Actor { get; init; }

    /// <summary>Dotted action name, e.g. "contract.signed", "job.keys_released".</summary>
    public required string Action { get; init; }

    /// <summary>What the action is about, e.g. "contract/demo", "job/j-…".</summary>
    public required string Target { get; init; }

    /// <summary>"ok", "refused" or "failed".</summary>
    public required string Outcome { get; init; }

    /// <summary>Stable reason code for refusals and failures.</summary>
    public string? ReasonCode { get; init; }

    /// <summary>One-line human reason; never contains secrets or data rows.</summary>
    public string? Reason { get; init; }

    /// <summary>Hex SHA-256 of the previous entry's canonical JSON; 64 zeros for the first entry.</summary>
    public required string Prev { get; init; }

    public const string GenesisPrev = "0000000000000000000000000000000000000000000000000000000000000000";

    public byte[] CanonicalBytes() => CanonicalJson.Serialize(this);

    public string Hash() => Hashing.Sha256Hex(CanonicalBytes());
}

namespace CleanRoom.Core;

/// <summary>Signed by the server's Ed25519 key: the log had <see cref="Size"/> entries ending in <see cref="Head"/>.</summary>
public sealed record AuditCheckpoint(string Log, long Size, string Head, string MerkleRoot, DateTimeOffset Time)
{
    /// <summary>The one log a CleanRoom server keeps; verifiers refuse a checkpoint of any other.</summary>
    public const string LogName = "cleanroom-audit-v1";
}

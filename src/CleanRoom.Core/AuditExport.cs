namespace CleanRoom.Core;

/// <summary>An exported audit log: every entry, the server's checkpoint over them and the server's public key.</summary>
public sealed record AuditExport(string ServerKey, string Checkpoint, IReadOnlyList<AuditEntry> Entries);

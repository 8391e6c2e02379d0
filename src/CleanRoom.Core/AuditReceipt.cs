namespace CleanRoom.Core;

/// <summary>
/// Proof that <see cref="Entry"/> is in the audit log: its inclusion proof under
/// <see cref="Checkpoint"/> (a <c>cleanroom-audit-checkpoint+jws</c> of the same tree size) signed
/// by <see cref="ServerKey"/>.
/// </summary>
public sealed record AuditReceipt(string ServerKey, string Checkpoint, AuditEntry Entry, AuditInclusionProof Proof);

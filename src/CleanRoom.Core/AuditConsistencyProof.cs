namespace CleanRoom.Core;

/// <summary>RFC 9162 §2.1.4 proof that the tree of <see cref="FromSize"/> entries is a prefix of the tree of <see cref="ToSize"/> entries; hashes hex.</summary>
public sealed record AuditConsistencyProof(long FromSize, long ToSize, IReadOnlyList<string> Hashes);

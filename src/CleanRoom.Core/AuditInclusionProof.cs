namespace CleanRoom.Core;

/// <summary>RFC 9162 §2.1.3 audit path of entry <see cref="LeafIndex"/> in the tree of <see cref="TreeSize"/> entries; hashes hex, nearest sibling first.</summary>
public sealed record AuditInclusionProof(long LeafIndex, long TreeSize, IReadOnlyList<string> Hashes);

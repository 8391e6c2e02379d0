using CleanRoom.Transparency;

namespace CleanRoom.Core;

/// <summary>The RFC 9162 Merkle root over audit entries (leaf = canonical JSON of each entry).</summary>
public static class AuditMerkle
{
    public static string Root(IReadOnlyList<AuditEntry> entries)
    {
        var tree = new MerkleTree();
        foreach (var e in entries)
        {
            tree.Append(e.CanonicalBytes());
        }

        return Convert.ToHexStringLower(tree.Root());
    }
}

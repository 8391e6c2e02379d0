// Verification of RFC 9162 (Certificate Transparency 2.0) Merkle proofs, step for step:
// inclusion proofs per §2.1.3.2 and consistency proofs per §2.1.4.2. SHA-256, 32-byte hashes.
// Anything malformed — an index outside the tree, sizes that go backwards, hashes of the wrong
// length, a proof too short or too long — is a failed verification, never an exception.
using System.Security.Cryptography;

namespace CleanRoom.Transparency;

/// <summary>Offline verifiers for RFC 9162 inclusion and consistency proofs.</summary>
public static class MerkleProofs
{
    private const int HashSize = MerkleHash.HashSize;

    /// <summary>
    /// True when <paramref name="proof"/> shows that the leaf with hash <paramref name="leafHash"/>
    /// sits at <paramref name="index"/> in the tree of <paramref name="treeSize"/> leaves whose root
    /// is <paramref name="root"/> (RFC 9162 §2.1.3.2).
    /// </summary>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        // Step 1: the leaf must lie inside the tree.
        if (index < 0 || index >= treeSize || leafHash.Length != HashSize || root.Length != HashSize || !IsWellFormed(proof))
        {
            return false;
        }

        // Steps 2–3.
        var fn = (ulong)index;
        var sn = (ulong)(treeSize - 1);
        Span<byte> r = stackalloc byte[HashSize];
        leafHash.CopyTo(r);

        // Step 4.
        for (var i = 0; i < proof.Count; i++)
        {
            var p = proof[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // Step 5.
        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }

    /// <summary>
    /// True when <paramref name="proof"/> shows that the tree of <paramref name="oldSize"/> leaves
    /// with root <paramref name="oldRoot"/> is a prefix of the tree of <paramref name="newSize"/>
    /// leaves with root <paramref name="newRoot"/> (RFC 9162 §2.1.4.2).
    /// </summary>
    /// <remarks>
    /// The RFC algorithm covers 0 &lt; oldSize &lt; newSize. Equal sizes are consistent exactly
    /// when the proof is empty and the roots are equal; an empty old tree is consistent with any
    /// new tree when the proof is empty and the old root is the empty-tree hash.
    /// </remarks>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize < 0 || oldSize > newSize || oldRoot.Length != HashSize || newRoot.Length != HashSize || !IsWellFormed(proof))
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(oldRoot, newRoot);
        }

        if (oldSize == 0)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(oldRoot, MerkleHash.EmptyRoot);
        }

        // Step 1.
        if (proof.Count == 0)
        {
            return false;
        }

        // Step 2: when the old tree is a complete subtree its root is the first element, implied.
        var oldIsPowerOfTwo = (oldSize & (oldSize - 1)) == 0;
        ReadOnlySpan<byte> first = oldIsPowerOfTwo ? oldRoot : proof[0];
        var next = oldIsPowerOfTwo ? 0 : 1;

        // Steps 3–4.
        var fn = (ulong)(oldSize - 1);
        var sn = (ulong)(newSize - 1);
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        // Step 5.
        Span<byte> fr = stackalloc byte[HashSize];
        Span<byte> sr = stackalloc byte[HashSize];
        first.CopyTo(fr);
        first.CopyTo(sr);

        // Step 6.
        for (var i = next; i < proof.Count; i++)
        {
            var c = proof[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(c, fr, fr);
                MerkleHash.NodeHash(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.NodeHash(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // Step 7: both roots, and the whole path used. Non-short-circuit '&' keeps the work
        // independent of which check fails.
        return CryptographicOperations.FixedTimeEquals(fr, oldRoot)
            & CryptographicOperations.FixedTimeEquals(sr, newRoot)
            & sn == 0;
    }

    private static bool IsWellFormed(IReadOnlyList<byte[]>? proof)
    {
        if (proof is null)
        {
            return false;
        }

        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is not { Length: HashSize })
            {
                return false;
            }
        }

        return true;
    }
}

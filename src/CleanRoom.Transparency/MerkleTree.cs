// Append-only Merkle tree of RFC 9162 §2.1 (Certificate Transparency 2.0): Merkle Tree
// Hash (§2.1.1), inclusion proofs (§2.1.3.1) and consistency proofs (§2.1.4.1), SHA-256,
// 32-byte hashes.
//
// Besides the leaf hashes the tree keeps the hash of every complete, aligned subtree
// (level k holds the subtrees of 2^k leaves). That costs about 64 bytes per leaf in total and
// makes the root of any prefix of the log, and any proof, O(log n) hash computations, while an
// append costs one leaf hash plus, amortised, one node hash.
using System.Diagnostics;
using System.Numerics;

namespace CleanRoom.Transparency;

/// <summary>
/// An in-memory, append-only RFC 9162 Merkle tree. Appends are serialized internally; roots and
/// proofs may be read from any thread at any time and see the tree as of some completed append.
/// </summary>
public sealed class MerkleTree
{
    // A tree of 2^62 leaves is far beyond memory; the bound keeps every size arithmetic in range.
    private const int MaxLevels = 63;

    private readonly HashStore?[] _levels = new HashStore?[MaxLevels];
    private readonly Lock _writeLock = new();
    private long _size;

    public MerkleTree() => _levels[0] = new HashStore();

    /// <summary>Number of leaves appended so far.</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>Builds a tree from leaf hashes (each 32 bytes), in log order.</summary>
    public static MerkleTree FromLeafHashes(IEnumerable<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        var tree = new MerkleTree();
        foreach (var leafHash in leafHashes)
        {
            tree.AppendLeafHash(leafHash);
        }

        return tree;
    }

    /// <summary>Hashes <paramref name="entry"/> as a leaf, appends it and returns its index.</summary>
    public long Append(ReadOnlySpan<byte> entry)
    {
        Span<byte> leafHash = stackalloc byte[MerkleHash.HashSize];
        MerkleHash.LeafHash(entry, leafHash);
        return AppendCore(leafHash);
    }

    /// <summary>Appends a leaf whose hash (SHA-256(0x00 ‖ entry)) the caller already computed.</summary>
    public void AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.HashSize)
        {
            throw new ArgumentException($"a leaf hash is {MerkleHash.HashSize} bytes, not {leafHash.Length}", nameof(leafHash));
        }

        AppendCore(leafHash);
    }

    /// <summary>Returns the hash of the leaf at <paramref name="index"/>.</summary>
    public byte[] GetLeafHash(long index)
    {
        var size = Size;
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the tree has {size} leaves");
        }

        return _levels[0]!.Get(index).ToArray();
    }

    /// <summary>The root of the whole tree as it is now.</summary>
    public byte[] Root() => Root(Size);

    /// <summary>The root the tree had when it held its first <paramref name="treeSize"/> leaves.</summary>
    public byte[] Root(long treeSize)
    {
        CheckTreeSize(treeSize, nameof(treeSize));
        if (treeSize == 0)
        {
            return MerkleHash.EmptyRoot.ToArray();
        }

        return RangeHash(0, treeSize);
    }

    /// <summary>
    /// The RFC 9162 §2.1.3.1 audit path for leaf <paramref name="index"/> in the tree of the first
    /// <paramref name="treeSize"/> leaves, nearest sibling first.
    /// </summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long treeSize)
    {
        CheckTreeSize(treeSize, nameof(treeSize));
        if (index < 0 || index >= treeSize)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"a tree of {treeSize} leaves has no such leaf");
        }

        // PATH(m, D[lo:lo+n]) descends towards leaf m; the sibling at each step is the proof
        // element, and the RFC lists them from the deepest up.
        var siblings = new List<byte[]>(64);
        long lo = 0, n = treeSize, m = index;
        while (n > 1)
        {
            var k = LargestPowerOfTwoBelow(n);
            if (m < k)
            {
                siblings.Add(RangeHash(lo + k, n - k));
                n = k;
            }
            else
            {
                siblings.Add(RangeHash(lo, k));
                lo += k;
                m -= k;
                n -= k;
            }
        }

        siblings.Reverse();
        return siblings.ToArray();
    }

    /// <summary>
    /// The RFC 9162 §2.1.4.1 consistency proof that the tree of the first <paramref name="oldSize"/>
    /// leaves is a prefix of the tree of the first <paramref name="newSize"/> leaves. Empty when
    /// the sizes are equal or the old tree is empty: there is nothing to prove.
    /// </summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long oldSize, long newSize)
    {
        CheckTreeSize(newSize, nameof(newSize));
        if (oldSize < 0 || oldSize > newSize)
        {
            throw new ArgumentOutOfRangeException(nameof(oldSize), oldSize, $"the old size must lie between 0 and the new size {newSize}");
        }

        if (oldSize == 0 || oldSize == newSize)
        {
            return [];
        }

        // SUBPROOF(m, D[lo:lo+n], b): descend until the old tree is a whole subtree; that subtree's
        // hash is needed only if the verifier cannot know it already (b false).
        var siblings = new List<byte[]>(64);
        long lo = 0, n = newSize, m = oldSize;
        var oldTreeIsWholeSubtree = true;
        while (m != n)
        {
            var k = LargestPowerOfTwoBelow(n);
            if (m <= k)
            {
                siblings.Add(RangeHash(lo + k, n - k));
                n = k;
            }
            else
            {
                siblings.Add(RangeHash(lo, k));
                lo += k;
                m -= k;
                n -= k;
                oldTreeIsWholeSubtree = false;
            }
        }

        if (!oldTreeIsWholeSubtree)
        {
            siblings.Add(RangeHash(lo, n));
        }

        siblings.Reverse();
        return siblings.ToArray();
    }

    private long AppendCore(ReadOnlySpan<byte> leafHash)
    {
        lock (_writeLock)
        {
            var index = _size;
            _levels[0]!.Add(leafHash);

            // Each trailing 1 bit of the index completes one more subtree.
            Span<byte> node = stackalloc byte[MerkleHash.HashSize];
            var position = index;
            var level = 0;
            while ((position & 1) == 1)
            {
                var children = _levels[level]!;
                MerkleHash.NodeHash(children.Get(position - 1), children.Get(position), node);
                level++;
                (_levels[level] ??= new HashStore()).Add(node);
                position >>= 1;
            }

            // Publishes the hashes written above to readers.
            Volatile.Write(ref _size, index + 1);
            return index;
        }
    }

    /// <summary>MTH(D[start:start+count]) for a range the RFC recursion can produce.</summary>
    private byte[] RangeHash(long start, long count)
    {
        Debug.Assert(count > 0, "an empty range has no hash here");

        // The range is a run of complete subtrees, one per set bit of count, largest first; the
        // recursion of §2.1.1 joins them from the right.
        var hash = new byte[MerkleHash.HashSize];
        var remaining = (ulong)count;
        var level = BitOperations.TrailingZeroCount(remaining);
        remaining &= remaining - 1;
        Subtree(level, start + (long)remaining).CopyTo(hash);
        while (remaining != 0)
        {
            level = BitOperations.TrailingZeroCount(remaining);
            remaining &= remaining - 1;
            MerkleHash.NodeHash(Subtree(level, start + (long)remaining), hash, hash);
        }

        return hash;
    }

    private ReadOnlySpan<byte> Subtree(int level, long start)
    {
        Debug.Assert((start & ((1L << level) - 1)) == 0, "complete subtrees are aligned to their size");
        return _levels[level]!.Get(start >> level);
    }

    private void CheckTreeSize(long treeSize, string paramName)
    {
        var size = Size;
        if (treeSize < 0 || treeSize > size)
        {
            throw new ArgumentOutOfRangeException(paramName, treeSize, $"the tree has {size} leaves");
        }
    }

    /// <summary>The k of RFC 9162: the largest power of two smaller than n (n ≥ 2).</summary>
    private static long LargestPowerOfTwoBelow(long n) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));
}

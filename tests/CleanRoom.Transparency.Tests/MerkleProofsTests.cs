using CleanRoom.Transparency.Tests.Vectors;
using static CleanRoom.Transparency.Tests.Vectors.Rfc6962Vectors;

namespace CleanRoom.Transparency.Tests;

public sealed class MerkleProofsTests
{
    private const int ExhaustiveSize = 64;

    private static readonly byte[] s_someHash = Hex("abacaba000000000000000000000000000000000000000000060061e00123456");

    private static readonly byte[][] s_leafHashes = Enumerable.Range(0, ExhaustiveSize)
        .Select(i => NaiveMerkle.Leaf([(byte)i, 0x5a]))
        .ToArray();

    private static readonly MerkleTree s_tree = MerkleTree.FromLeafHashes(s_leafHashes);

    public static TheoryData<int> InclusionVectors => new(Enumerable.Range(0, Rfc6962Vectors.Inclusion.Length));

    public static TheoryData<int> ConsistencyVectors => new(Enumerable.Range(0, Rfc6962Vectors.Consistency.Length));

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Reference_inclusion_proof_verifies_and_every_corruption_of_it_fails(int vector)
    {
        var (index, size, hexProof) = Rfc6962Vectors.Inclusion[vector];
        var proof = hexProof.Select(Hex).ToArray();
        var root = Hex(Roots[size - 1]);
        var leaf = LeafHash(index);

        Assert.True(MerkleProofs.VerifyInclusion(index, size, leaf, proof, root));

        var probes = new List<(string What, long Index, long Size, byte[] Leaf, byte[][] Proof, byte[] Root)>
        {
            ("index - 1", index - 1, size, leaf, proof, root),
            ("index + 1", index + 1, size, leaf, proof, root),
            ("index ^ 2", index ^ 2, size, leaf, proof, root),
            ("size * 2", index, size * 2, leaf, proof, root),
            ("size / 2", index, size / 2, leaf, proof, root),
            ("wrong leaf", index, size, s_someHash, proof, root),
            ("empty-tree root", index, size, leaf, proof, Hex(EmptyRoot)),
            ("random root", index, size, leaf, proof, s_someHash),
            ("trailing root", index, size, leaf, [.. proof, root], root),
            ("preceding root", index, size, leaf, [root, .. proof], root),
            ("trailing empty element", index, size, leaf, [.. proof, []], root),
        };
        for (var i = 0; i < proof.Length; i++)
        {
            probes.Add(($"bit flipped in element {i}", index, size, leaf, FlipBit(proof, i), root));
        }

        if (proof.Length > 0)
        {
            probes.Add(("last element removed", index, size, leaf, proof[..^1], root));
            probes.Add(("element inserted", index, size, leaf, [proof[0], s_someHash, .. proof[1..]], root));
        }

        foreach (var p in probes)
        {
            Assert.False(MerkleProofs.VerifyInclusion(p.Index, p.Size, p.Leaf, p.Proof, p.Root), p.What);
        }
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Reference_consistency_proof_verifies_and_every_corruption_of_it_fails(int vector)
    {
        var (oldSize, newSize, hexProof) = Rfc6962Vectors.Consistency[vector];
        var proof = hexProof.Select(Hex).ToArray();
        var oldRoot = Hex(Roots[oldSize - 1]);
        var newRoot = Hex(Roots[newSize - 1]);

        Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof));
        if (proof.Length == 0)
        {
            return;
        }

        var probes = new List<(string What, long OldSize, long NewSize, byte[] OldRoot, byte[] NewRoot, byte[][] Proof)>
        {
            ("old size - 1", oldSize - 1, newSize, oldRoot, newRoot, proof),
            ("old size + 1", oldSize + 1, newSize, oldRoot, newRoot, proof),
            ("old size ^ 2", oldSize ^ 2, newSize, oldRoot, newRoot, proof),
            ("new size * 2", oldSize, newSize * 2, oldRoot, newRoot, proof),
            ("new size / 2", oldSize, newSize / 2, oldRoot, newRoot, proof),
            ("wrong old root", oldSize, newSize, s_someHash, newRoot, proof),
            ("wrong new root", oldSize, newSize, oldRoot, s_someHash, proof),
            ("swapped roots", oldSize, newSize, newRoot, oldRoot, proof),
            ("empty proof", oldSize, newSize, oldRoot, newRoot, []),
            ("trailing old root", oldSize, newSize, oldRoot, newRoot, [.. proof, oldRoot]),
            ("trailing new root", oldSize, newSize, oldRoot, newRoot, [.. proof, newRoot]),
            ("preceding old root", oldSize, newSize, oldRoot, newRoot, [oldRoot, .. proof]),
            ("preceding new root", oldSize, newSize, oldRoot, newRoot, [newRoot, .. proof]),
            ("preceding first element", oldSize, newSize, oldRoot, newRoot, [proof[0], .. proof]),
            ("trailing empty element", oldSize, newSize, oldRoot, newRoot, [.. proof, []]),
            ("last element removed", oldSize, newSize, oldRoot, newRoot, proof[..^1]),
        };
        for (var i = 0; i < proof.Length; i++)
        {
            probes.Add(($"bit flipped in element {i}", oldSize, newSize, oldRoot, newRoot, FlipBit(proof, i)));
        }

        foreach (var p in probes)
        {
            Assert.False(MerkleProofs.VerifyConsistency(p.OldSize, p.NewSize, p.OldRoot, p.NewRoot, p.Proof), p.What);
        }
    }

    [Fact]
    public void Every_tampered_inclusion_proof_up_to_size_64_fails()
    {
        for (var n = 1; n <= ExhaustiveSize; n++)
        {
            var root = s_tree.Root(n);
            for (var m = 0; m < n; m++)
            {
                var proof = s_tree.InclusionProof(m, n).ToArray();
                var leaf = s_leafHashes[m];
                var where = $"leaf {m} of {n}";

                Assert.False(MerkleProofs.VerifyInclusion(m, n, s_leafHashes[(m + 1) % ExhaustiveSize], proof, root), "wrong leaf, " + where);
                Assert.False(MerkleProofs.VerifyInclusion(m, n, leaf, proof, s_tree.Root(n - 1)), "wrong root, " + where);
                Assert.False(MerkleProofs.VerifyInclusion(m, n, leaf, [.. proof, s_someHash], root), "extra element, " + where);
                if (m > 0)
                {
                    Assert.False(MerkleProofs.VerifyInclusion(m - 1, n, leaf, proof, root), "index - 1, " + where);
                }

                if (m + 1 < n)
                {
                    Assert.False(MerkleProofs.VerifyInclusion(m + 1, n, leaf, proof, root), "index + 1, " + where);
                }

                for (var i = 0; i < proof.Length; i++)
                {
                    Assert.False(MerkleProofs.VerifyInclusion(m, n, leaf, FlipBit(proof, i), root), $"element {i} flipped, {where}");
                    Assert.False(MerkleProofs.VerifyInclusion(m, n, leaf, proof.Where((_, j) => j != i).ToArray(), root), $"element {i} removed, {where}");
                }
            }
        }
    }

    [Fact]
    public void Every_tampered_consistency_proof_up_to_size_64_fails()
    {
        for (var n = 2; n <= ExhaustiveSize; n++)
        {
            var newRoot = s_tree.Root(n);
            for (var m = 1; m < n; m++)
            {
                var oldRoot = s_tree.Root(m);
                var proof = s_tree.ConsistencyProof(m, n).ToArray();
                var where = $"{m} to {n}";

                Assert.False(MerkleProofs.VerifyConsistency(m, n, s_tree.Root(m - 1), newRoot, proof), "wrong old root, " + where);
                Assert.False(MerkleProofs.VerifyConsistency(m, n, oldRoot, s_tree.Root(n - 1), proof), "wrong new root, " + where);
                Assert.False(MerkleProofs.VerifyConsistency(m, n, newRoot, oldRoot, proof), "swapped roots, " + where);
                Assert.False(MerkleProofs.VerifyConsistency(m, n, oldRoot, newRoot, [.. proof, s_someHash]), "extra element, " + where);
                for (var i = 0; i < proof.Length; i++)
                {
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, oldRoot, newRoot, FlipBit(proof, i)), $"element {i} flipped, {where}");
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, oldRoot, newRoot, proof.Where((_, j) => j != i).ToArray()), $"element {i} removed, {where}");
                }
            }
        }
    }

    [Fact]
    public void Inclusion_with_an_index_outside_the_tree_returns_false()
    {
        var leaf = LeafHash(0);
        var root = Hex(Roots[0]);

        Assert.True(MerkleProofs.VerifyInclusion(0, 1, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(1, 1, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 0, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(-1, 1, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, -1, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(long.MaxValue, long.MaxValue, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, long.MaxValue, leaf, [], root));
    }

    [Fact]
    public void Inclusion_with_malformed_hashes_or_proof_returns_false()
    {
        var leaf = LeafHash(0);
        var root = Hex(Roots[1]);
        byte[][] proof = [LeafHash(1)];

        Assert.True(MerkleProofs.VerifyInclusion(0, 2, leaf, proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf.AsSpan(0, 31), proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, proof, root.AsSpan(0, 31)));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, [proof[0][..31]], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, [null!], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, null!, root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 2, leaf, Enumerable.Repeat(proof[0], 100).ToArray(), root));
    }

    [Fact]
    public void Consistency_with_sizes_going_backwards_returns_false()
    {
        var root1 = Hex(Roots[0]);
        var root2 = Hex(Roots[1]);
        byte[][] proof = [LeafHash(1)];

        Assert.True(MerkleProofs.VerifyConsistency(1, 2, root1, root2, proof));
        Assert.False(MerkleProofs.VerifyConsistency(2, 1, root2, root1, proof));
        Assert.False(MerkleProofs.VerifyConsistency(2, 1, root1, root2, []));
        Assert.False(MerkleProofs.VerifyConsistency(-1, 2, root1, root2, proof));
        Assert.False(MerkleProofs.VerifyConsistency(1, -2, root1, root2, proof));
        Assert.False(MerkleProofs.VerifyConsistency(long.MaxValue - 1, long.MaxValue, root1, root2, proof));
    }

    [Fact]
    public void Consistency_with_malformed_hashes_or_proof_returns_false()
    {
        var root1 = Hex(Roots[0]);
        var root2 = Hex(Roots[1]);
        byte[][] proof = [LeafHash(1)];

        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1.AsSpan(1), root2, proof));
        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1, [.. root2, 0], proof));
        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1, root2, [proof[0][..31]]));
        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1, root2, [null!]));
        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1, root2, null!));
        Assert.False(MerkleProofs.VerifyConsistency(1, 2, root1, root2, Enumerable.Repeat(proof[0], 100).ToArray()));
    }

    [Fact]
    public void Equal_sizes_are_consistent_only_with_equal_roots_and_an_empty_proof()
    {
        var root = Hex(Roots[4]);

        Assert.True(MerkleProofs.VerifyConsistency(5, 5, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, Hex(Roots[3]), []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, root, [root]));
    }

    [Fact]
    public void Empty_old_tree_is_consistent_only_with_the_empty_root_and_an_empty_proof()
    {
        var empty = Hex(EmptyRoot);
        var root = Hex(Roots[7]);

        Assert.True(MerkleProofs.VerifyConsistency(0, 8, empty, root, []));
        Assert.True(MerkleProofs.VerifyConsistency(0, 0, empty, empty, []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 8, s_someHash, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 8, empty, root, [empty]));
        Assert.False(MerkleProofs.VerifyConsistency(0, 0, empty, root, []));
    }

    private static byte[][] FlipBit(byte[][] proof, int element)
    {
        var copy = proof.Select(p => (byte[])p.Clone()).ToArray();
        copy[element][0] ^= 0x10;
        return copy;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using CleanRoom.Transparency.Tests.Vectors;
using static CleanRoom.Transparency.Tests.Vectors.Rfc6962Vectors;

namespace CleanRoom.Transparency.Tests;

public sealed class MerkleTreeTests
{
    private const int ExhaustiveSize = 64;

    private static readonly byte[][] s_entries = Enumerable.Range(0, ExhaustiveSize)
        .Select(i => new[] { (byte)i, (byte)(i * 7), (byte)(i >> 3) })
        .ToArray();

    private static readonly byte[][] s_leafHashes = s_entries.Select(NaiveMerkle.Leaf).ToArray();

    private static readonly MerkleTree s_tree = MerkleTree.FromLeafHashes(s_leafHashes);

    public static TheoryData<int> InclusionVectors => new(Enumerable.Range(0, Rfc6962Vectors.Inclusion.Length));

    public static TheoryData<int> ConsistencyVectors => new(Enumerable.Range(0, Rfc6962Vectors.Consistency.Length));

    [Fact]
    public void Empty_tree_has_the_empty_root()
    {
        var tree = new MerkleTree();

        Assert.Equal(0, tree.Size);
        Assert.Equal(EmptyRoot, Convert.ToHexStringLower(tree.Root()));
    }

    [Fact]
    public void Roots_of_the_eight_reference_leaves_match_RFC_6962_for_every_size()
    {
        var tree = Tree(8);

        Assert.Equal(EmptyRoot, Convert.ToHexStringLower(tree.Root(0)));
        for (var size = 1; size <= 8; size++)
        {
            Assert.Equal(Roots[size - 1], Convert.ToHexStringLower(tree.Root(size)));
        }
    }

    [Fact]
    public void Root_grows_through_the_RFC_6962_roots_as_leaves_are_appended()
    {
        var tree = new MerkleTree();
        for (var i = 0; i < Leaves.Length; i++)
        {
            Assert.Equal(i, tree.Append(Hex(Leaves[i])));
            Assert.Equal(Roots[i], Convert.ToHexStringLower(tree.Root()));
        }
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Inclusion_proof_matches_RFC_6962_reference(int vector)
    {
        var (index, treeSize, expected) = Rfc6962Vectors.Inclusion[vector];

        var proof = Tree(8).InclusionProof(index, treeSize);

        Assert.Equal(expected, proof.Select(Convert.ToHexStringLower));
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Consistency_proof_matches_RFC_6962_reference(int vector)
    {
        var (oldSize, newSize, expected) = Rfc6962Vectors.Consistency[vector];

        var proof = Tree(8).ConsistencyProof(oldSize, newSize);

        Assert.Equal(expected, proof.Select(Convert.ToHexStringLower));
    }

    [Fact]
    public void Root_of_every_size_up_to_64_matches_the_naive_reference()
    {
        for (var n = 0; n <= ExhaustiveSize; n++)
        {
            Assert.Equal(NaiveMerkle.Root(s_leafHashes[..n]), s_tree.Root(n));
        }
    }

    [Fact]
    public void Every_inclusion_proof_up_to_size_64_matches_the_naive_reference_and_verifies()
    {
        for (var n = 1; n <= ExhaustiveSize; n++)
        {
            var leaves = s_leafHashes[..n];
            var root = NaiveMerkle.Root(leaves);
            for (var m = 0; m < n; m++)
            {
                var proof = s_tree.InclusionProof(m, n);

                Assert.Equal(NaiveMerkle.Path(m, leaves), proof);
                Assert.True(MerkleProofs.VerifyInclusion(m, n, leaves[m], proof, root), $"leaf {m} of {n}");
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_up_to_size_64_matches_the_naive_reference_and_verifies()
    {
        for (var n = 0; n <= ExhaustiveSize; n++)
        {
            var newRoot = NaiveMerkle.Root(s_leafHashes[..n]);
            for (var m = 0; m <= n; m++)
            {
                var oldRoot = NaiveMerkle.Root(s_leafHashes[..m]);
                var proof = s_tree.ConsistencyProof(m, n);

                var expected = m == 0 || m == n ? [] : NaiveMerkle.Proof(m, s_leafHashes[..n]);
                Assert.Equal(expected, proof);
                Assert.True(MerkleProofs.VerifyConsistency(m, n, oldRoot, newRoot, proof), $"{m} to {n}");
            }
        }
    }

    [Fact]
    public void Append_returns_consecutive_indexes_and_keeps_leaf_hashes()
    {
        var tree = new MerkleTree();

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(i, tree.Append(s_entries[i]));
        }

        Assert.Equal(10, tree.Size);
        Assert.Equal(s_leafHashes[7], tree.GetLeafHash(7));
    }

    [Fact]
    public void Appending_entries_and_appending_their_leaf_hashes_build_the_same_tree()
    {
        var byEntry = new MerkleTree();
        foreach (var entry in s_entries)
        {
            byEntry.Append(entry);
        }

        Assert.Equal(s_tree.Size, byEntry.Size);
        Assert.Equal(s_tree.Root(), byEntry.Root());
    }

    [Fact]
    public void Append_leaf_hash_of_the_wrong_length_throws()
    {
        var tree = new MerkleTree();

        Assert.Throws<ArgumentException>(() => tree.AppendLeafHash(new byte[31]));
        Assert.Equal(0, tree.Size);
    }

    [Fact]
    public void Asking_about_sizes_or_leaves_the_tree_does_not_have_throws()
    {
        var tree = Tree(8);

        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Root(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Root(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(8, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.InclusionProof(-1, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(-1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.ConsistencyProof(4, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.GetLeafHash(8));
    }

    [Fact]
    public void A_million_leaf_tree_builds_and_its_proofs_verify()
    {
        const int size = 1_000_000;
        var clock = Stopwatch.StartNew();
        var tree = new MerkleTree();
        Span<byte> entry = stackalloc byte[8];
        for (long i = 0; i < size; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(entry, i);
            tree.Append(entry);
        }

        var buildTime = clock.Elapsed;
        Assert.Equal(size, tree.Size);

        // An independent streaming computation of the same root: merge equal-sized subtrees on a
        // stack, then fold what is left from the right.
        var stack = new List<(byte[] Hash, long Leaves)>();
        for (long i = 0; i < size; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(entry, i);
            stack.Add((NaiveMerkle.Leaf(entry.ToArray()), 1));
            while (stack.Count > 1 && stack[^1].Leaves == stack[^2].Leaves)
            {
                var right = stack[^1];
                var left = stack[^2];
                stack.RemoveRange(stack.Count - 2, 2);
                stack.Add((NaiveMerkle.Node(left.Hash, right.Hash), left.Leaves * 2));
            }
        }

        var expectedRoot = stack[^1].Hash;
        for (var i = stack.Count - 2; i >= 0; i--)
        {
            expectedRoot = NaiveMerkle.Node(stack[i].Hash, expectedRoot);
        }

        clock.Restart();
        var root = tree.Root();
        Assert.Equal(expectedRoot, root);

        var random = new Random(1234);
        for (var i = 0; i < 1000; i++)
        {
            long index = random.Next(size);
            var proof = tree.InclusionProof(index, size);
            Assert.InRange(proof.Count, 1, 20);
            Assert.True(MerkleProofs.VerifyInclusion(index, size, tree.GetLeafHash(index), proof, root), $"leaf {index}");

            long oldSize = random.Next(1, size + 1);
            Assert.True(MerkleProofs.VerifyConsistency(oldSize, size, tree.Root(oldSize), root, tree.ConsistencyProof(oldSize, size)), $"{oldSize} to {size}");
        }

        // Hash counts, not wall time, are what keeps this fast on a shared machine; the elapsed
        // times are there to read in the log.
        Assert.True(buildTime < TimeSpan.FromSeconds(60), $"building took {buildTime}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"2000 proofs took {clock.Elapsed}");
    }

    [Fact]
    public async Task Readers_see_a_consistent_tree_while_a_writer_appends()
    {
        const int size = 100_000;
        var tree = new MerkleTree();
        using var done = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            long previousSize = 0;
            var previousRoot = MerkleHash.EmptyRoot.ToArray();
            var checks = 0;
            while (!done.IsCancellationRequested || checks == 0)
            {
                var n = tree.Size;
                if (n == 0)
                {
                    continue;
                }

                var root = tree.Root(n);
                var index = random.NextInt64(n);
                if (!MerkleProofs.VerifyInclusion(index, n, tree.GetLeafHash(index), tree.InclusionProof(index, n), root)
                    || !MerkleProofs.VerifyConsistency(previousSize, n, previousRoot, root, tree.ConsistencyProof(previousSize, n)))
                {
                    return $"inconsistent view at size {n}";
                }

                (previousSize, previousRoot) = (n, root);
                checks++;
            }

            return null;
        })).ToArray();

        var buffer = new byte[8];
        for (long i = 0; i < size; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(buffer, i);
            tree.Append(buffer);
        }

        await done.CancelAsync();
        foreach (var failure in await Task.WhenAll(readers))
        {
            Assert.Null(failure);
        }
    }
}

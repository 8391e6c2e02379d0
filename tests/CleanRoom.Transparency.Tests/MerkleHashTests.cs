using System.Security.Cryptography;
using static CleanRoom.Transparency.Tests.Vectors.Rfc6962Vectors;

namespace CleanRoom.Transparency.Tests;

public sealed class MerkleHashTests
{
    [Fact]
    public void Empty_root_is_sha256_of_the_empty_string()
    {
        Assert.Equal(EmptyRoot, Convert.ToHexStringLower(MerkleHash.EmptyRoot));
    }

    [Fact]
    public void Leaf_hash_of_the_empty_entry_matches_the_one_leaf_root()
    {
        Assert.Equal(Roots[0], Convert.ToHexStringLower(MerkleHash.LeafHash([])));
    }

    [Fact]
    public void Node_hash_of_the_first_two_leaves_matches_the_two_leaf_root()
    {
        var node = MerkleHash.NodeHash(LeafHash(0), LeafHash(1));

        Assert.Equal(Roots[1], Convert.ToHexStringLower(node));
    }

    [Theory]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(1 << 20)]
    public void Leaf_hash_of_entries_around_the_stack_limit_is_sha256_of_zero_and_entry(int length)
    {
        var entry = new byte[length];
        new Random(length).NextBytes(entry);

        Assert.Equal(SHA256.HashData([0x00, .. entry]), MerkleHash.LeafHash(entry));
    }

    [Fact]
    public void Node_hash_may_write_over_its_right_child()
    {
        var left = LeafHash(0);
        var right = LeafHash(1);
        var expected = MerkleHash.NodeHash(left, right);

        MerkleHash.NodeHash(left, right, right);

        Assert.Equal(expected, right);
    }

    [Fact]
    public void Node_hash_of_children_that_are_not_32_bytes_throws()
    {
        Assert.Throws<ArgumentException>(() => MerkleHash.NodeHash(new byte[31], new byte[32]));
        Assert.Throws<ArgumentException>(() => MerkleHash.NodeHash(new byte[32], new byte[33]));
    }
}

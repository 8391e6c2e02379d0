// RFC 9162 §2.1 (Certificate Transparency 2.0) Merkle Tree Hash, with SHA-256:
//   leaf hash  = SHA-256(0x00 ‖ entry)
//   node hash  = SHA-256(0x01 ‖ left ‖ right)
//   empty tree = SHA-256("")
// Every hash is 32 bytes. The distinct prefixes keep a leaf from being passed off as a node
// (second-preimage resistance of the tree).
using System.Security.Cryptography;

namespace CleanRoom.Transparency;

/// <summary>The hashing rules of an RFC 9162 Merkle tree.</summary>
public static class MerkleHash
{
    /// <summary>Size in bytes of every leaf, node and root hash (SHA-256).</summary>
    public const int HashSize = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Entries up to this size are prefixed on the stack; larger ones are streamed so a big
    // entry is never copied.
    private const int StackEntryLimit = 1024;

    private static readonly byte[] s_emptyRoot = SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>The root of the tree with no leaves: SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> EmptyRoot => s_emptyRoot;

    /// <summary>Returns SHA-256(0x00 ‖ <paramref name="entry"/>).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var hash = new byte[HashSize];
        LeafHash(entry, hash);
        return hash;
    }

    /// <summary>Writes SHA-256(0x00 ‖ <paramref name="entry"/>) to <paramref name="destination"/>.</summary>
    public static void LeafHash(ReadOnlySpan<byte> entry, Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException($"the destination must hold {HashSize} bytes", nameof(destination));
        }

        if (entry.Length <= StackEntryLimit)
        {
            Span<byte> buffer = stackalloc byte[1 + StackEntryLimit];
            buffer[0] = LeafPrefix;
            entry.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(1 + entry.Length)], destination);
            return;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(entry);
        sha.GetHashAndReset(destination);
    }

    /// <summary>Returns SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>).</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[HashSize];
        NodeHash(left, right, hash);
        return hash;
    }

    /// <summary>
    /// Writes SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>) to
    /// <paramref name="destination"/>, which may overlap either input.
    /// </summary>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        if (left.Length != HashSize || right.Length != HashSize)
        {
            throw new ArgumentException($"both children must be {HashSize}-byte hashes");
        }

        if (destination.Length < HashSize)
        {
            throw new ArgumentException($"the destination must hold {HashSize} bytes", nameof(destination));
        }

        Span<byte> buffer = stackalloc byte[1 + (2 * HashSize)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        SHA256.HashData(buffer, destination);
    }
}

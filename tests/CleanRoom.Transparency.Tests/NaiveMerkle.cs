// A deliberately naive RFC 9162 §2.1 reference: the recursive definitions of MTH, PATH and
// PROOF transcribed literally, hashing with SHA256 directly so it shares no code with the
// implementation under test. Exponential in nothing, but O(n) per call: for small trees only.
using System.Security.Cryptography;

namespace CleanRoom.Transparency.Tests;

internal static class NaiveMerkle
{
    public static byte[] Leaf(byte[] entry) => SHA256.HashData([0x00, .. entry]);

    public static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    /// <summary>MTH(D) over leaf hashes.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> d)
    {
        var n = d.Count;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return d[0];
        }

        var k = SplitPoint(n);
        return Node(Root(Slice(d, 0, k)), Root(Slice(d, k, n)));
    }

    /// <summary>PATH(m, D).</summary>
    public static List<byte[]> Path(int m, IReadOnlyList<byte[]> d)
    {
        var n = d.Count;
        if (n == 1)
        {
            return [];
        }

        var k = SplitPoint(n);
        if (m < k)
        {
            var path = Path(m, Slice(d, 0, k));
            path.Add(Root(Slice(d, k, n)));
            return path;
        }
        else
        {
            var path = Path(m - k, Slice(d, k, n));
            path.Add(Root(Slice(d, 0, k)));
            return path;
        }
    }

    /// <summary>PROOF(m, D) = SUBPROOF(m, D, true).</summary>
    public static List<byte[]> Proof(int m, IReadOnlyList<byte[]> d) => SubProof(m, d, true);

    private static List<byte[]> SubProof(int m, IReadOnlyList<byte[]> d, bool b)
    {
        var n = d.Count;
        if (m == n)
        {
            return b ? [] : [Root(d)];
        }

        var k = SplitPoint(n);
        if (m <= k)
        {
            var proof = SubProof(m, Slice(d, 0, k), b);
            proof.Add(Root(Slice(d, k, n)));
            return proof;
        }
        else
        {
            var proof = SubProof(m - k, Slice(d, k, n), false);
            proof.Add(Root(Slice(d, 0, k)));
            return proof;
        }
    }

    /// <summary>The largest power of two smaller than n.</summary>
    private static int SplitPoint(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static List<byte[]> Slice(IReadOnlyList<byte[]> d, int from, int to) => d.Skip(from).Take(to - from).ToList();
}

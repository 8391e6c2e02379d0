// Benchmarks the RFC 9162 §2.1 Merkle tree of CleanRoom.Transparency (SHA-256, 32-byte hashes):
// append throughput, inclusion proof generation and verification at full size, and the full
// verification an auditor performs, recomputing the root of the whole log from raw entries.
using System.Buffers.Binary;
using System.Diagnostics;
using CleanRoom.Transparency;

namespace CleanRoom.Benchmarks;

internal static class MerkleBench
{
    // About the size of one canonical-JSON audit entry.
    private const int EntrySize = 256;
    private const int ProofSamples = 10_000;
    private const int WarmUpEntries = 20_000;

    public static void Run(TextWriter output, int entries)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(entries, 1);

        var entry = new byte[EntrySize];
        new Random(42).NextBytes(entry);

        // Warm-up so the measured loops run tiered-up code.
        var warmUp = Build(entry, Math.Min(entries, WarmUpEntries));
        MeasureProofs(warmUp, 1_000, new double[1_000], new double[1_000], new double[1_000]);

        // 1. Appends.
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        var tree = Build(entry, entries);
        clock.Stop();
        var memory = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        output.WriteLine(
            $"merkle append: {entries:N0} entries of {EntrySize} B in {clock.Elapsed.TotalMilliseconds:N0} ms = " +
            $"{entries / clock.Elapsed.TotalSeconds:N0} leaves/s; tree holds {memory / (1024.0 * 1024.0):N1} MiB");

        // 2. Inclusion (and consistency) proofs against the full tree.
        var generate = new double[ProofSamples];
        var verify = new double[ProofSamples];
        var consistency = new double[ProofSamples];
        var root = MeasureProofs(tree, ProofSamples, generate, verify, consistency);
        output.WriteLine(
            $"merkle inclusion proof at {tree.Size:N0} leaves ({tree.InclusionProof(0, tree.Size).Count} hashes), {ProofSamples:N0} samples: " +
            $"generate median {Median(generate):N1} µs (p99 {Percentile(generate, 0.99):N1} µs), " +
            $"verify median {Median(verify):N1} µs (p99 {Percentile(verify, 0.99):N1} µs)");
        output.WriteLine(
            $"merkle consistency proof to {tree.Size:N0} leaves, generate + verify: median {Median(consistency):N1} µs " +
            $"(p99 {Percentile(consistency, 0.99):N1} µs)");

        // 3. Full verification: every entry hashed again and the root recomputed from nothing.
        clock.Restart();
        var recomputed = Build(entry, entries).Root();
        clock.Stop();
        if (!recomputed.AsSpan().SequenceEqual(root))
        {
            throw new InvalidOperationException("the recomputed root differs from the tree's root");
        }

        output.WriteLine(
            $"merkle full verification: root of {entries:N0} raw entries recomputed in {clock.Elapsed.TotalMilliseconds:N0} ms " +
            $"({entries / clock.Elapsed.TotalSeconds:N0} entries/s), matches");
    }

    private static MerkleTree Build(byte[] entry, int entries)
    {
        var tree = new MerkleTree();
        for (var i = 0; i < entries; i++)
        {
            // Distinct entries, without paying to generate fresh content in the timed loop.
            BinaryPrimitives.WriteInt32LittleEndian(entry, i);
            tree.Append(entry);
        }

        return tree;
    }

    /// <summary>Times proofs for random leaves and sizes, in microseconds; returns the root.</summary>
    private static byte[] MeasureProofs(MerkleTree tree, int samples, double[] generate, double[] verify, double[] consistency)
    {
        var size = tree.Size;
        var root = tree.Root();
        var random = new Random(7);
        for (var s = 0; s < samples; s++)
        {
            var index = random.NextInt64(size);
            var leafHash = tree.GetLeafHash(index);

            var start = Stopwatch.GetTimestamp();
            var proof = tree.InclusionProof(index, size);
            var generated = Stopwatch.GetTimestamp();
            var included = MerkleProofs.VerifyInclusion(index, size, leafHash, proof, root);
            var verified = Stopwatch.GetTimestamp();
            if (!included)
            {
                throw new InvalidOperationException($"the inclusion proof for leaf {index} of {size} does not verify");
            }

            generate[s] = Stopwatch.GetElapsedTime(start, generated).TotalMicroseconds;
            verify[s] = Stopwatch.GetElapsedTime(generated, verified).TotalMicroseconds;

            var oldSize = 1 + random.NextInt64(size);
            var oldRoot = tree.Root(oldSize);
            start = Stopwatch.GetTimestamp();
            var consistent = MerkleProofs.VerifyConsistency(oldSize, size, oldRoot, root, tree.ConsistencyProof(oldSize, size));
            consistency[s] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (!consistent)
            {
                throw new InvalidOperationException($"the consistency proof from {oldSize} to {size} does not verify");
            }
        }

        return root;
    }

    private static double Median(double[] values) => Percentile(values, 0.5);

    private static double Percentile(double[] values, double fraction)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(fraction * sorted.Length))];
    }
}

// Benchmarks the server's audit log (CleanRoom.Server.AuditLog) on a real SQLite file in WAL
// mode with synchronous=FULL: durable appends per second through the group-committing writer,
// inclusion-proof time at full size, and the full offline verification of an export (hash chain,
// sequence, RFC 9162 Merkle root, signed checkpoint, consistency with a saved checkpoint).
using System.Diagnostics;
using CleanRoom.Core;
using CleanRoom.Server;

namespace CleanRoom.Benchmarks;

internal static class AuditBench
{
    // Appends in flight at once, as many concurrent requests would have.
    private const int Concurrency = 512;
    private const int ProofSamples = 1_000;
    private const int VerifyRuns = 3;

    public static async Task RunAsync(TextWriter output, int entries)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(entries, 1);
        var dir = Directory.CreateTempSubdirectory("cleanroom-auditbench-").FullName;
        try
        {
            using var db = new Database(Path.Combine(dir, "cleanroom.db"));
            using var identity = ServerIdentity.LoadOrCreate(dir);
            var log = new AuditLog(db, identity, TimeProvider.System);

            // 1. Durable appends: each task completes only after its group commit's fsync.
            var clock = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < entries)
                {
                    await log.AppendAsync("party-" + (i % 7), "request.refused", "contract/bench-" + (i % 100), "refused", "auth.bad_signature", "request refused: its signature does not verify under the party's key");
                }
            })));
            clock.Stop();
            output.WriteLine($"audit append (durable, WAL + synchronous=FULL, group commit, {Concurrency} in flight): {entries:N0} entries in {clock.Elapsed.TotalMilliseconds:N0} ms = {entries / clock.Elapsed.TotalSeconds:N0} appends/s");

            // 2. Inclusion proofs against the full tree.
            var random = new Random(7);
            clock.Restart();
            for (var s = 0; s < ProofSamples; s++)
            {
                _ = log.InclusionProof(random.NextInt64(entries), entries);
            }

            clock.Stop();
            output.WriteLine($"audit inclusion proof at {entries:N0} entries: {clock.Elapsed.TotalMicroseconds / ProofSamples:N1} µs per proof (mean of {ProofSamples:N0})");

            // 3. Full verification of an export, as an auditor does offline.
            // Best of three: the figure is the verifier's cost, not the noise of a shared machine.
            var saved = log.CurrentCheckpoint();
            clock.Restart();
            var export = log.Export();
            var exportMs = clock.Elapsed.TotalMilliseconds;
            var runs = new List<double>();
            AuditVerification? verification = null;
            for (var run = 0; run < VerifyRuns; run++)
            {
                clock.Restart();
                verification = AuditVerifier.VerifyExtends(export, saved, identity.PublicKey);
                clock.Stop();
                runs.Add(clock.Elapsed.TotalMilliseconds);
            }

            output.WriteLine($"audit verify of a {export.Entries.Count:N0}-entry export (chain, sequence, Merkle root, signed checkpoint, consistency with a saved checkpoint): " +
                $"best {runs.Min():N0} ms of {string.Join(" / ", runs.Select(r => r.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} ms ({(verification!.IsValid ? "valid" : "INVALID: " + verification.Reason)}); the server's export took {exportMs:N0} ms");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

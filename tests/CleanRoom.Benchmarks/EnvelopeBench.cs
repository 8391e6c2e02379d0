using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CleanRoom.Envelope;

namespace CleanRoom.Benchmarks;

/// <summary>
/// Dataset envelope throughput and memory: encrypts then decrypts <c>bytes</c> of generated data
/// (default 1 MiB chunks), to a null sink (pure crypto) and through a temp file (with disk I/O),
/// and prints MB/s, bytes allocated and peak working set. Run it at two sizes (e.g. 256 MiB and
/// 1 GiB): allocation and working set should not grow with the size.
/// </summary>
internal static class EnvelopeBench
{
    private const double MiB = 1024 * 1024;

    public static void Run(TextWriter output, long bytes)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        byte[] key = RandomNumberGenerator.GetBytes(DatasetEnvelope.KeySize);
        var options = new EnvelopeOptions { DatasetId = "bench", ContentType = "text/csv" };
        string path = Path.Combine(Path.GetTempPath(), $"cleanroom-envelope-bench-{Guid.NewGuid():N}.crenv");

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"envelope: {bytes / MiB:F0} MiB, chunk {options.ChunkSize / 1024} KiB, {Environment.ProcessorCount} cores, AES-NI {System.Runtime.Intrinsics.X86.Aes.IsSupported}"));
        try
        {
            // Warm up JIT, tiering and the buffer pool so the first row is not penalised.
            Encrypt(new PatternStream(8L << 20), Stream.Null, key, options);

            Measure(output, "encrypt -> null", bytes, () => Encrypt(new PatternStream(bytes), Stream.Null, key, options));

            long ciphertextLength = 0;
            Measure(output, "encrypt -> file", bytes, () =>
            {
                using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                ciphertextLength = Encrypt(new PatternStream(bytes), file, key, options).CiphertextLength;
            });

            Measure(output, "decrypt file -> null", bytes, () =>
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                EnvelopeDecryptResult result = DatasetEnvelope.DecryptAsync(file, Stream.Null, key, options.DatasetId).GetAwaiter().GetResult();
                if (!result.Success || result.PlaintextLength != bytes)
                {
                    throw new InvalidOperationException($"Benchmark decrypt failed: {result.ErrorCode} {result.Reason}");
                }
            });

            Measure(output, "read stream file", bytes, () =>
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                using EnvelopeReadStream stream = DatasetEnvelope.OpenRead(
                    new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), key, options.DatasetId);
                int read;
                while ((read = stream.Read(buffer)) > 0)
                {
                    total += read;
                }

                if (total != bytes)
                {
                    throw new InvalidOperationException($"Benchmark read stream returned {total} bytes, expected {bytes}.");
                }
            });

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ciphertext {ciphertextLength} bytes (overhead {ciphertextLength - bytes} bytes)"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static EnvelopeInfo Encrypt(Stream source, Stream sink, byte[] key, EnvelopeOptions options) =>
        DatasetEnvelope.EncryptAsync(source, sink, key, options).GetAwaiter().GetResult();

    private static void Measure(TextWriter output, string name, long bytes, Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
        var stopwatch = Stopwatch.StartNew();

        action();

        stopwatch.Stop();
        TimeSpan cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        using var process = Process.GetCurrentProcess();
        double seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-22} {bytes / MiB / seconds,8:F0} MiB/s wall  {bytes / MiB / Math.Max(cpu.TotalSeconds, 1e-9),8:F0} MiB/s per CPU-second  allocated {allocated / MiB,6:F2} MiB  peak working set {process.PeakWorkingSet64 / MiB,6:F0} MiB"));
    }

    /// <summary>A non-seekable source of <c>length</c> bytes cycling through a pseudo-random buffer.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private static readonly byte[] Pattern = CreatePattern();
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(Span<byte> buffer)
        {
            int count = (int)Math.Min(buffer.Length, length - _position);
            for (int done = 0; done < count;)
            {
                int start = (int)((_position + done) % Pattern.Length);
                int n = Math.Min(count - done, Pattern.Length - start);
                Pattern.AsSpan(start, n).CopyTo(buffer[done..]);
                done += n;
            }

            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(Read(buffer.Span));

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static byte[] CreatePattern()
        {
            // Odd length so chunk boundaries never line up with the pattern.
            var pattern = new byte[(1 << 20) + 7];
            new Random(42).NextBytes(pattern);
            return pattern;
        }
    }
}

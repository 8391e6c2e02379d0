using System.Numerics;
using System.Security.Cryptography;

namespace CleanRoom.Privacy;

/// <summary>
/// <see cref="IRandomSource"/> over the operating system CSPRNG (<see cref="RandomNumberGenerator"/>). Uniform integers use
/// rejection sampling on the smallest covering bit length, so there is no modulo bias. Thread-safe.
/// </summary>
/// <remarks>
/// Small draws come from a per-thread buffer of CSPRNG output, refilled 4 KiB at a time: one OS call per draw cost about
/// 5 µs, which dominated the DP pipeline (a draw per kept group of every unit over L0). Bytes are handed out once and
/// zeroed as they are used; the buffer never leaves its thread.
/// </remarks>
public sealed class CryptoRandomSource : IRandomSource
{
    private const int BufferSize = 4096;

    [ThreadStatic]
    private static byte[]? t_buffer;

    [ThreadStatic]
    private static int t_position;

    public static CryptoRandomSource Instance { get; } = new();

    public BigInteger NextBigInteger(BigInteger exclusiveUpperBound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(exclusiveUpperBound, BigInteger.Zero);
        return UniformBelow(exclusiveUpperBound, Fill);
    }

    public bool NextBit()
    {
        Span<byte> one = stackalloc byte[1];
        Fill(one);
        return (one[0] & 1) == 1;
    }

    private static void Fill(Span<byte> destination)
    {
        if (destination.Length > BufferSize / 8)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }

        if (t_buffer is null)
        {
            t_buffer = new byte[BufferSize];
            t_position = BufferSize;
        }

        if (BufferSize - t_position < destination.Length)
        {
            RandomNumberGenerator.Fill(t_buffer);
            t_position = 0;
        }

        var source = t_buffer.AsSpan(t_position, destination.Length);
        source.CopyTo(destination);
        source.Clear();
        t_position += destination.Length;
    }

    /// <summary>Rejection sampling: draw bitLength(bound − 1) random bits until the value is below the bound (≥ ½ acceptance).</summary>
    internal static BigInteger UniformBelow(BigInteger exclusiveUpperBound, SpanAction fill)
    {
        if (exclusiveUpperBound.IsOne)
        {
            return BigInteger.Zero;
        }

        var bits = (int)(exclusiveUpperBound - 1).GetBitLength();
        if (bits <= 32)
        {
            // Same rejection sampling without allocations, for the small bounds of the L0 cap.
            var bound = (ulong)exclusiveUpperBound; // up to 2^32 itself, which does not fit in a uint
            var mask = bits == 32 ? uint.MaxValue : (1u << bits) - 1;
            Span<byte> word = stackalloc byte[4];
            while (true)
            {
                fill(word[..((bits + 7) / 8)]);
                ulong candidate = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(word) & mask;
                word.Clear();
                if (candidate < bound)
                {
                    return candidate;
                }
            }
        }

        var bytes = new byte[(bits + 7) / 8];
        var topMask = (byte)(0xFF >> ((8 * bytes.Length) - bits));
        while (true)
        {
            fill(bytes);
            bytes[^1] &= topMask;
            var candidate = new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
            if (candidate < exclusiveUpperBound)
            {
                return candidate;
            }
        }
    }

    internal delegate void SpanAction(Span<byte> buffer);
}

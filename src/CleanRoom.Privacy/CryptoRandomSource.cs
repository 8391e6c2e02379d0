using System.Numerics;
using System.Security.Cryptography;

namespace CleanRoom.Privacy;

/// <summary>
/// <see cref="IRandomSource"/> over the operating system CSPRNG (<see cref="RandomNumberGenerator"/>). Uniform integers use
/// rejection sampling on the smallest covering bit length, so there is no modulo bias. Thread-safe.
/// </summary>
public sealed class CryptoRandomSource : IRandomSource
{
    public static CryptoRandomSource Instance { get; } = new();

    public BigInteger NextBigInteger(BigInteger exclusiveUpperBound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(exclusiveUpperBound, BigInteger.Zero);
        return UniformBelow(exclusiveUpperBound, RandomNumberGenerator.Fill);
    }

    public bool NextBit()
    {
        Span<byte> one = stackalloc byte[1];
        RandomNumberGenerator.Fill(one);
        return (one[0] & 1) == 1;
    }

    /// <summary>Rejection sampling: draw bitLength(bound − 1) random bits until the value is below the bound (≥ ½ acceptance).</summary>
    internal static BigInteger UniformBelow(BigInteger exclusiveUpperBound, SpanAction fill)
    {
        if (exclusiveUpperBound.IsOne)
        {
            return BigInteger.Zero;
        }

        var bits = (int)(exclusiveUpperBound - 1).GetBitLength();
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

using System.Numerics;

namespace CleanRoom.Privacy;

/// <summary>Uniform randomness for the DP samplers. Production uses <see cref="CryptoRandomSource"/>; tests inject a seeded source.</summary>
public interface IRandomSource
{
    /// <summary>A uniform integer in [0, <paramref name="exclusiveUpperBound"/>); the bound must be positive.</summary>
    BigInteger NextBigInteger(BigInteger exclusiveUpperBound);

    /// <summary>A uniform bit.</summary>
    bool NextBit();
}

using System.Numerics;

namespace CleanRoom.Privacy.Tests;

/// <summary>Deterministic <see cref="IRandomSource"/> for reproducible statistical tests. Never for production.</summary>
internal sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public BigInteger NextBigInteger(BigInteger exclusiveUpperBound) =>
        CryptoRandomSource.UniformBelow(exclusiveUpperBound, buffer => _random.NextBytes(buffer));

    public bool NextBit() => _random.Next(2) == 1;
}

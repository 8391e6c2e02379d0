namespace CleanRoom.Attestation.Tests;

/// <summary>One simulated platform per test class: RSA-4096 generation is slow on shared CI cores.</summary>
public sealed class SimulatedPlatformFixture : IDisposable
{
    public SimulatedAmdPlatform Platform { get; } = SimulatedAmdPlatform.Create();

    public void Dispose() => Platform.Dispose();
}

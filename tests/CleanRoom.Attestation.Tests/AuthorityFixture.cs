namespace CleanRoom.Attestation.Tests;

/// <summary>A simulated platform and an authority under the shipped simulated policy, shared per class.</summary>
public sealed class AuthorityFixture : IDisposable
{
    public AuthorityFixture()
    {
        Platform = SimulatedAmdPlatform.Create();
        Time = new FixedTimeProvider(DateTimeOffset.UtcNow);
        AttestationPolicy policy = TestPolicies.Simulated;
        Authority = new AttestationAuthority(policy, Platform.TrustedRoots, policy.Issuer, Time);
    }

    public SimulatedAmdPlatform Platform { get; }

    internal FixedTimeProvider Time { get; }

    public AttestationAuthority Authority { get; }

    public void Dispose()
    {
        Authority.Dispose();
        Platform.Dispose();
    }
}

namespace CleanRoom.Attestation;

/// <summary>Which root a policy accepts evidence under. There is deliberately no "any".</summary>
public enum AttestationRootOfTrust
{
    /// <summary>The pinned real AMD ARKs (<see cref="SnpTrustedRoots.Production"/>).</summary>
    Amd = 1,

    /// <summary>A simulated ARK generated for this run and supplied at runtime as a file.</summary>
    SimulatedAmd = 2,
}

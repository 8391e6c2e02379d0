namespace CleanRoom.Enclave;

/// <summary>
/// Enclave configuration; simulation must be asked for explicitly. Defaults: simulated evidence,
/// the server's local attestation authority and key broker. Setting <see cref="AttestationEndpoint"/>
/// or <see cref="KeyVault"/> selects Azure, which requires real (configfs-tsm) evidence.
/// </summary>
public sealed class EnclaveOptions
{
    public required Uri Server { get; init; }

    /// <summary>Directory of the simulated AMD platform; required (and only used) in simulated mode.</summary>
    public string? SimulatedAmdDirectory { get; init; }

    public bool Simulated { get; init; }

    /// <summary>Evidence source: "simulated" (needs <see cref="Simulated"/>) or "tsm" (Linux configfs-tsm).</summary>
    public string Evidence { get; init; } = "simulated";

    /// <summary>configfs-tsm report directory; injectable so tests can use a fake tree.</summary>
    public string TsmRoot { get; init; } = ConfigFsTsmEvidenceSource.DefaultRoot;

    /// <summary>PEM file with VCEK, ASK, ARK, used when the host supplies no certificate table.</summary>
    public string? VcekChainFile { get; init; }

    /// <summary>Azure Attestation instance (https). Null: the server's local authority.</summary>
    public Uri? AttestationEndpoint { get; init; }

    /// <summary>Azure Key Vault or Managed HSM (https). Null: the server's local key broker.</summary>
    public Uri? KeyVault { get; init; }

    /// <summary>
    /// PEM RSA public key or certificate that must sign Key Vault release responses. With
    /// <see cref="KeyVault"/>, this or <see cref="KeyVaultRootsFile"/> is needed (both: both must hold).
    /// </summary>
    public string? KeyVaultSignerFile { get; init; }

    /// <summary>
    /// PEM bundle of the root certificates Key Vault's signing chain (the release JWS's <c>x5c</c>)
    /// must validate to, in production Microsoft's roots; only these are trusted, never the system store.
    /// </summary>
    public string? KeyVaultRootsFile { get; init; }

    /// <summary>Attestation policy JSON whose issuer the enclave pins; required outside simulated mode.</summary>
    public string? AttestationPolicyFile { get; init; }

    /// <summary>DuckDB memory limit; work beyond it fails rather than spilling plaintext to disk.</summary>
    public string MemoryLimit { get; init; } = "4GB";

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Exit after this many jobs (0 = run until stopped). Used by tests.</summary>
    public int MaxJobs { get; init; }
}

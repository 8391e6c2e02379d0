namespace CleanRoom.Server;

/// <summary>Server configuration. Safe defaults: loopback only, simulation off.</summary>
public sealed class ServerOptions
{
    /// <summary>Directory holding the SQLite database, ciphertext blobs and the server's signing key.</summary>
    public string DataDirectory { get; set; } = "cleanroom-data";

    /// <summary>Directory of attestation and release policies (attestation-policies/).</summary>
    public string PolicyDirectory { get; set; } = "attestation-policies";

    /// <summary>Must be switched on explicitly: runs the local attestation authority that trusts a simulated AMD root.</summary>
    public bool SimulatedAttestation { get; set; }

    /// <summary>Directory of the simulated AMD platform (its ARK certificate is the simulated root of trust).</summary>
    public string? SimulatedAmdDirectory { get; set; }

    /// <summary>Public base URL of this server, used as the local attestation authority's issuer prefix.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Lease on a claimed job, renewed by the enclave's heartbeat while the job runs; when it expires the
    /// job goes back to the queue (see JobLeases). Short enough that a crash delays a job by seconds, long
    /// enough to ride out a server restart without losing the enclave's work.
    /// </summary>
    public TimeSpan JobLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest accepted ciphertext upload.</summary>
    public long MaxCiphertextBytes { get; set; } = 64L * 1024 * 1024 * 1024;
}

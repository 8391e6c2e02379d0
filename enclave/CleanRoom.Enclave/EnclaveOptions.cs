namespace CleanRoom.Enclave;

/// <summary>Enclave configuration; simulation must be asked for explicitly.</summary>
public sealed class EnclaveOptions
{
    public required Uri Server { get; init; }

    /// <summary>Directory of the simulated AMD platform; required (and only used) in simulated mode.</summary>
    public string? SimulatedAmdDirectory { get; init; }

    public bool Simulated { get; init; }

    /// <summary>DuckDB memory limit; work beyond it fails rather than spilling plaintext to disk.</summary>
    public string MemoryLimit { get; init; } = "4GB";

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Exit after this many jobs (0 = run until stopped). Used by tests.</summary>
    public int MaxJobs { get; init; }
}

namespace CleanRoom.Enclave;

/// <summary>Where the enclave gets SEV-SNP evidence binding its REPORT_DATA.</summary>
internal interface IEvidenceSource : IDisposable
{
    /// <summary>True only for the simulated AMD platform; production policies refuse its evidence.</summary>
    bool IsSimulated { get; }

    /// <summary>One line for the log, e.g. "SIMULATED hardware" or "SEV-SNP via configfs-tsm".</summary>
    string Description { get; }

    Task<AttestationEvidence> GetEvidenceAsync(byte[] reportData, CancellationToken cancellationToken);
}

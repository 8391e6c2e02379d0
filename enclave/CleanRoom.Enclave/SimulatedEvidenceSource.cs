using CleanRoom.Attestation;

namespace CleanRoom.Enclave;

/// <summary>Local mode: reports of the exact SEV-SNP layout signed by the simulated AMD platform's VCEK.</summary>
internal sealed class SimulatedEvidenceSource(SimulatedAmdPlatform platform) : IEvidenceSource
{
    public bool IsSimulated => true;

    public string Description => "SIMULATED hardware";

    public Task<AttestationEvidence> GetEvidenceAsync(byte[] reportData, CancellationToken cancellationToken)
    {
        var report = platform.CreateReport(new SimulatedReportRequest
        {
            ReportData = reportData,
            Measurement = SimulatedAmdPlatform.SimulatedLaunchMeasurement,
        });
        return Task.FromResult(new AttestationEvidence(report, platform.CertChainPem));
    }

    public void Dispose() => platform.Dispose();
}

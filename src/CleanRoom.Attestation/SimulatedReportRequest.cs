namespace CleanRoom.Attestation;

/// <summary>What a simulated guest asks its simulated AMD secure processor to put in a report.</summary>
public sealed class SimulatedReportRequest
{
    /// <summary>REPORT_DATA, exactly 64 bytes (MAA binding: SHA-256(runtime data) ‖ 32 zero bytes).</summary>
    public required ReadOnlyMemory<byte> ReportData { get; init; }

    /// <summary>MEASUREMENT, 48 bytes. Defaults to <see cref="SimulatedAmdPlatform.SimulatedLaunchMeasurement"/>.</summary>
    public byte[] Measurement { get; init; } = SimulatedAmdPlatform.SimulatedLaunchMeasurement;

    /// <summary>HOST_DATA, 32 bytes, or null for zeros.</summary>
    public byte[]? HostData { get; init; }

    /// <summary>Guest POLICY; the default has the reserved bit 17 set, SMT allowed, debug and migration off.</summary>
    public ulong Policy { get; init; } = SnpGuestPolicy.DefaultSimulated;

    public uint Vmpl { get; init; }

    public uint GuestSvn { get; init; }

    /// <summary>FAMILY_ID, 16 bytes, or null for zeros.</summary>
    public byte[]? FamilyId { get; init; }

    /// <summary>IMAGE_ID, 16 bytes, or null for zeros.</summary>
    public byte[]? ImageId { get; init; }
}

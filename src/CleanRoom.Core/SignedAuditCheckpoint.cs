namespace CleanRoom.Core;

/// <summary>
/// A signed audit checkpoint with the key that signed it: what the server's checkpoint endpoint
/// returns and what <c>cleanroom audit checkpoint</c> saves, so that a party can later prove the
/// log still extends it.
/// </summary>
public sealed record SignedAuditCheckpoint(string Format, string ServerKey, string Checkpoint)
{
    public const string FormatV1 = "cleanroom.audit-checkpoint.v1";
}

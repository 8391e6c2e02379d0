namespace CleanRoom.Core;

/// <summary>The JWS "typ" header of every signed statement CleanRoom produces.</summary>
public static class StatementTypes
{
    public const string ContractSignature = "cleanroom-contract-signature+jws";
    public const string Vote = "cleanroom-vote+jws";
    public const string Result = "cleanroom-result+jws";
    public const string AuditCheckpoint = "cleanroom-audit-checkpoint+jws";
}

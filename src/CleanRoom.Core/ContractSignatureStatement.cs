namespace CleanRoom.Core;

/// <summary>A party's signature over a contract's canonical hash.</summary>
public sealed record ContractSignatureStatement(string ContractId, int ContractVersion, string ContractHash, string Party, DateTimeOffset SignedAt);

namespace CleanRoom.Core;

/// <summary>A party's signed vote over the exact hash of a computation.</summary>
public sealed record VoteStatement(string ContractId, string ComputationId, string ComputationHash, string Party, string Decision, DateTimeOffset VotedAt)
{
    public const string Approve = "approve";
    public const string Reject = "reject";
}

using CleanRoom.Core.Api;

namespace CleanRoom.Core;

/// <summary>
/// Checks, from signed statements alone, that a contract was signed by every party and that a
/// computation was approved by every required party over its exact hash. Used by the enclave
/// before it touches data and by `cleanroom result verify` offline; neither trusts the server.
/// </summary>
public static class ApprovalVerifier
{
    /// <summary>Returns null if every party signed this exact contract, else a one-line reason.</summary>
    public static string? VerifyContract(ContractDocument contract, IReadOnlyList<SignedStatement> signatures)
    {
        var hash = contract.Hash();
        foreach (var party in contract.Parties)
        {
            var statement = signatures.FirstOrDefault(s => s.Party == party.Name);
            if (statement is null)
            {
                return $"contract '{contract.Id}' is not signed by party '{party.Name}'";
            }

            var check = Jws.Verify(statement.Jws, party.SigningKey, StatementTypes.ContractSignature);
            if (!check.IsValid)
            {
                return $"contract signature of '{party.Name}' is invalid: {check.Reason}";
            }

            var payload = check.Jws!.PayloadAs<ContractSignatureStatement>();
            if (payload is null || payload.ContractHash != hash || payload.ContractId != contract.Id || payload.Party != party.Name)
            {
                return $"contract signature of '{party.Name}' covers a different contract (hash mismatch)";
            }
        }

        return null;
    }

    /// <summary>
    /// Returns null if every approver in <paramref name="requiredApprovers"/> (which must include every
    /// contract manager) approved this exact computation and nobody rejected it, else a one-line reason.
    /// </summary>
    public static string? VerifyApprovals(ContractDocument contract, ComputationDocument computation, IReadOnlyCollection<string> requiredApprovers, IReadOnlyList<SignedStatement> votes)
    {
        if (computation.ContractId != contract.Id || computation.ContractHash != contract.Hash())
        {
            return $"computation '{computation.Id}' names a different contract or contract version";
        }

        foreach (var manager in contract.Parties.Where(p => p.Has(Roles.ContractManager)))
        {
            if (!requiredApprovers.Contains(manager.Name))
            {
                return $"contract manager '{manager.Name}' is missing from the required approvers";
            }
        }

        var hash = computation.Hash();
        foreach (var name in requiredApprovers)
        {
            var party = contract.FindParty(name);
            if (party is null)
            {
                return $"required approver '{name}' is not a party of the contract";
            }

            var vote = votes.FirstOrDefault(v => v.Party == name);
            if (vote is null)
            {
                return $"computation '{computation.Id}' is not approved by '{name}'";
            }

            var check = Jws.Verify(vote.Jws, party.SigningKey, StatementTypes.Vote);
            if (!check.IsValid)
            {
                return $"vote of '{name}' is invalid: {check.Reason}";
            }

            var payload = check.Jws!.PayloadAs<VoteStatement>();
            if (payload is null || payload.ComputationId != computation.Id || payload.Party != name || payload.ContractId != contract.Id)
            {
                return $"vote of '{name}' names another computation, contract or party";
            }

            if (payload.ComputationHash != hash)
            {
                return $"vote of '{name}' approves a different version of computation '{computation.Id}' (the SQL or its parameters changed after approval)";
            }

            if (payload.Decision != VoteStatement.Approve)
            {
                return $"computation '{computation.Id}' was rejected by '{name}'";
            }
        }

        return null;
    }

    /// <summary>The approvers a computation needs: the owners of every dataset it reads, plus every contract manager.</summary>
    public static List<string> RequiredApprovers(ContractDocument contract, IEnumerable<string> tablesRead) =>
        tablesRead.Select(t => contract.FindDataset(t)?.Owner ?? throw new ArgumentException($"table '{t}' is not a dataset of the contract"))
            .Concat(contract.Parties.Where(p => p.Has(Roles.ContractManager)).Select(p => p.Name))
            .Distinct().Order(StringComparer.Ordinal).ToList();
}

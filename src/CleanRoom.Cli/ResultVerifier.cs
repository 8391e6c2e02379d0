using System.Globalization;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Cli;

/// <summary>
/// Offline verification of a result bundle: every check uses only the bundle, the named policy
/// file, the keys the verifier pins and cryptography — never the server. One line per check; the result is valid only if all pass.
/// </summary>
internal static class ResultVerifier
{
    private const string ResultFormat = "cleanroom.result.v2";

    // The record and the bundle are read strictly: a member that is null or missing where the type has none makes them
    // malformed, never a NullReferenceException in a later check.
    internal static readonly JsonSerializerOptions StrictOptions = new(CanonicalJson.SerializerOptions)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <param name="pinnedServerKey">
    /// The server key the audit checkpoint must be signed by; when null, the key the bundle's audit
    /// receipt names is used and the report says so.
    /// </param>
    /// <param name="recipient">
    /// The result recipient verifying: its output is decrypted and checked against the signed digest.
    /// Without it the output cannot be checked, and the verification fails closed.
    /// </param>
    /// <param name="pinnedAuthorityJwks">
    /// The attestation authority's keys (a JWKS, e.g. the issuer's <c>/certs</c> fetched by the verifier). Required under a
    /// production policy: the bundle's own JWKS comes from the operator, who could sign a token with a key of its own. When
    /// null under a simulated policy, whose authority is the operator's server anyway, the bundle's JWKS is used and the
    /// report says so.
    /// </param>
    public static ResultVerification Verify(ResultBundle bundle, AttestationPolicy policy, DateTimeOffset now, string? pinnedServerKey = null, PartyKeys? recipient = null, string? pinnedAuthorityJwks = null)
    {
        var checks = new List<VerificationCheck>();
        bool Check(string name, bool ok, string detail)
        {
            checks.Add(new VerificationCheck(name, ok, detail));
            return ok;
        }

        if (!Jws.TryDecode(bundle.ResultJws, out var decoded, out var error))
        {
            Check("result format", false, error!);
            return new ResultVerification(checks, null, false, null);
        }

        ResultRecord? record;
        try
        {
            record = decoded!.Payload.Deserialize<ResultRecord>(StrictOptions);
        }
        catch (JsonException)
        {
            record = null;
        }

        // A null inside a list is not caught by the nullable annotations; every check below reads these elements.
        if (record is not null && (record.Datasets.Contains(null!) || record.Outputs.Contains(null!) || record.Columns.Contains(null!)))
        {
            record = null;
        }

        var formatOk = record is not null && record.Format == ResultFormat;
        if (!Check("result format", formatOk, formatOk ? $"{ResultFormat} record for job {record!.JobId}" : record is null ? "the signed payload is not a result record" : $"'{record.Format}' is not {ResultFormat}") || record is null)
        {
            return new ResultVerification(checks, null, false, null);
        }

        // Attestation token: signature through the authority's keys, issuer pinned by the named policy. The keys come from
        // the verifier, never from the bundle, except under a simulated policy (whose authority is the operator's own).
        var simulatedPolicy = policy.RootOfTrust == AttestationRootOfTrust.SimulatedAmd;
        var jwks = pinnedAuthorityJwks
            ?? (simulatedPolicy && bundle.AttestationJwks.ValueKind != JsonValueKind.Undefined ? bundle.AttestationJwks.GetRawText() : null);
        var token = jwks is null ? null : AttestationTokenValidator.Validate(record.AttestationToken, jwks, new TokenValidationOptions
        {
            ExpectedIssuer = policy.Issuer,
            AllowSimulated = simulatedPolicy,
            TimeProvider = new FixedTime(record.IssuedAt),
        });
        var tokenValid = token?.IsValid == true;
        var simulated = tokenValid && token!.Claims.TryGetProperty("x-cleanroom-simulated", out var sim) && sim.ValueKind == JsonValueKind.True;
        var keysSource = pinnedAuthorityJwks is null ? " (authority keys from the bundle; pin them with --jwks)" : " (pinned authority keys)";
        Check("attestation token", tokenValid, tokenValid
            ? $"valid under policy '{policy.Name}' (issuer {policy.Issuer})" + keysSource + (simulated ? " — SIMULATED hardware, not a real confidential VM" : string.Empty)
            : token is null
                ? $"not trusted: policy '{policy.Name}' needs the authority's keys pinned with --jwks FILE (its /certs, fetched yourself); the bundle's own JWKS is only the operator's word"
                : token.Reason ?? "invalid");
        if (tokenValid)
        {
            var measurement = token!.Claims.TryGetProperty("x-ms-sevsnpvm-launchmeasurement", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Empty;
            var debuggable = token.Claims.TryGetProperty("x-ms-sevsnpvm-is-debuggable", out var d) && d.ValueKind == JsonValueKind.True;
            var measurementOk = policy.AllowedMeasurements.Contains(measurement, StringComparer.OrdinalIgnoreCase);
            Check("enclave measurement", measurementOk && (!debuggable || policy.AllowDebug),
                measurementOk ? (debuggable && !policy.AllowDebug ? "the VM is debuggable" : "launch measurement is allowed by the policy, not debuggable") : "launch measurement is not in the policy's allow-list");
        }

        // Result signature by the enclave key that the token's runtime data binds.
        var runtime = tokenValid ? RuntimeKeys.Read(token!.Claims) : null;
        var signatureOk = runtime?.IsValid == true && Jws.Verify(bundle.ResultJws, runtime.SigningKey!, StatementTypes.Result).IsValid;
        Check("result signature", signatureOk, signatureOk ? "signed by the attested enclave's key (EdDSA)"
            : runtime?.IsValid == true ? "the result is not signed by the key bound in the attestation token"
            : "cannot be checked: no enclave key can be trusted without a valid attestation token");

        // Contract, computation and approvals, from signed statements only. The contract names its parties' keys itself,
        // so "signed by every party" proves something only once one of those keys is the verifier's own: else the operator
        // could write a contract of the same id under keys of its own and have an attested enclave run it.
        var contractError = ApprovalVerifier.VerifyContract(bundle.Contract, bundle.ContractSignatures) ?? VerifierIsParty(bundle.Contract, recipient);
        Check("contract", contractError is null && record.ContractHash == bundle.Contract.Hash() && record.ContractId == bundle.Contract.Id,
            contractError ?? (record.ContractHash == bundle.Contract.Hash() ? $"'{bundle.Contract.Id}' signed by all {bundle.Contract.Parties.Count} parties" : "the result names a different contract version"));

        var undeclared = record.Datasets.FirstOrDefault(x => bundle.Contract.FindDataset(x.Name) is null);
        var approvalError = undeclared is not null
            ? $"the result reads '{undeclared.Name}', which is not a dataset of the contract"
            : ApprovalVerifier.RequiredApprovers(bundle.Contract, record.Datasets.Select(x => x.Name)).All(bundle.RequiredApprovers.Contains)
                ? ApprovalVerifier.VerifyApprovals(bundle.Contract, bundle.Computation, bundle.RequiredApprovers, bundle.Votes)
                : "the bundle's approver list omits an owner of the data read or a contract manager";
        var hashesOk = record.ComputationHash == bundle.Computation.Hash() && record.SqlSha256 == bundle.Computation.SqlSha256() && record.ComputationId == bundle.Computation.Id;
        Check("computation approved", approvalError is null && hashesOk,
            approvalError ?? (hashesOk ? $"SQL sha256 {record.SqlSha256[..16]}… approved by {string.Join(", ", bundle.RequiredApprovers)}" : "the result's computation or SQL hash differs from the approved computation"));

        var datasetsOk = record.Datasets.Count > 0 && record.Datasets.All(x => x.CiphertextSha256 is { Length: 64 } && bundle.Datasets.Any(p => p.Name == x.Name && p.CiphertextSha256 == x.CiphertextSha256));
        Check("dataset digests", datasetsOk, datasetsOk ? string.Join(", ", record.Datasets.Select(x => $"{x.Name} {x.CiphertextSha256[..12]}…")) + " match the published ciphertext" : "a dataset digest differs from the published ciphertext");

        var output = CheckOutput(bundle, record, recipient, Check);
        CheckAuditInclusion(bundle, record, pinnedServerKey, Check);
        return new ResultVerification(checks, record, simulated, output);
    }

    private static string? VerifierIsParty(ContractDocument contract, PartyKeys? verifier)
    {
        if (verifier is null)
        {
            return null;
        }

        var party = contract.FindParty(verifier.Name);
        var identity = verifier.Identity;
        return party is not null && party.SigningKey == identity.SigningKey && party.EncryptionKey == identity.EncryptionKey
            ? null
            : $"the contract does not list '{verifier.Name}' under your keys: you never signed it, so its signatures are not your parties'";
    }

    // The rows are sealed to each recipient (HPKE); only a recipient can open its copy and check
    // that it hashes to the signed digest. Without a recipient's key the check fails closed.
    private static ResultTable? CheckOutput(ResultBundle bundle, ResultRecord record, PartyKeys? recipient, Func<string, bool, string, bool> check)
    {
        const string Name = "output";
        var approved = bundle.Computation.Privacy;
        var dp = record.Privacy.Mode == PrivacySpec.DpMode;
        var privacyMatches = record.Privacy.Mode == approved.Mode && (dp
            ? approved.Dp is { } spec && record.Privacy.EpsilonCharged == spec.Epsilon && record.Privacy.DeltaCharged == spec.Delta
            : record.Privacy.MinDistinctUnits == approved.MinDistinctUnits);
        if (!privacyMatches)
        {
            check(Name, false, "the result's privacy mode, threshold or (ε, δ) differs from the approved computation");
            return null;
        }

        var privacy = dp
            ? string.Create(CultureInfo.InvariantCulture, $"differential privacy, ε = {record.Privacy.EpsilonCharged}, δ = {record.Privacy.DeltaCharged} charged")
            : $"aggregate threshold k = {record.Privacy.MinDistinctUnits} distinct units (groups below it are suppressed, and not counted)";

        var recipients = string.Join(", ", record.Outputs.Select(o => o.Recipient));
        if (recipient is null)
        {
            check(Name, false, $"encrypted to {recipients}; pass --as RECIPIENT to decrypt and check it");
            return null;
        }

        var table = record.TryOpenOutput(recipient.Name, recipient.EncryptionKey, out var reason);
        check(Name, table is not null, table is not null
            ? $"{record.RowCount} rows decrypted as '{recipient.Name}' (HPKE X25519/AES-256-GCM, sealed to {recipients}) match the signed digest; {privacy}"
            : reason!);
        return table;
    }

    // The job's job.finished entry must be in the audit log under a signed checkpoint: the entry
    // names this result's job, and the inclusion proof leads from it to the signed Merkle root.
    private static void CheckAuditInclusion(ResultBundle bundle, ResultRecord record, string? pinnedServerKey, Func<string, bool, string, bool> check)
    {
        const string Name = "audit inclusion";
        var receipt = bundle.AuditReceipt;
        if (receipt?.Entry is null || receipt.Proof is null)
        {
            check(Name, false, "the bundle carries no audit inclusion proof for the job");
            return;
        }

        var entry = receipt.Entry;
        if (entry.Action != "job.finished" || entry.Outcome != "ok" || entry.Target != "job/" + record.JobId || (bundle.AuditIndex is { } index && index != entry.Seq)
            || entry.Seq <= record.JobAuditIndex)
        {
            check(Name, false, $"the audit entry is '{entry.Action}' for {entry.Target}, not job.finished for job/{record.JobId}: the result belongs to another job");
            return;
        }

        var verification = AuditVerifier.VerifyReceipt(receipt, pinnedServerKey);
        if (!verification.IsValid)
        {
            check(Name, false, $"{verification.Reason} [{verification.ErrorCode}]");
            return;
        }

        var key = receipt.ServerKey.Length > 12 ? receipt.ServerKey[..12] + "…" : receipt.ServerKey;
        check(Name, true, $"job started at entry {record.JobAuditIndex} (signed by the enclave), finished at entry {entry.Seq} (job.finished job/{record.JobId}), in the log of {verification.Checkpoint!.Size} entries under a checkpoint signed by {key}"
            + (pinnedServerKey is null ? " (key named by the bundle; pin it with --server-key)" : " (pinned server key)"));
    }

    private sealed class FixedTime(DateTimeOffset at) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => at;
    }
}

internal sealed record VerificationCheck(string Name, bool Passed, string Detail);

/// <param name="Output">The decrypted columns and rows, when a recipient's key opened them and they match the signed digest.</param>
internal sealed record ResultVerification(IReadOnlyList<VerificationCheck> Checks, ResultRecord? Record, bool Simulated, ResultTable? Output)
{
    public bool IsValid => Checks.Count > 0 && Checks.All(c => c.Passed);
}

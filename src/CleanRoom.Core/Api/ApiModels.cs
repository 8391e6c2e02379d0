#pragma warning disable SA1649, MA0048 // wire records are grouped in one file on purpose: they are one API surface
using System.Text.Json;

namespace CleanRoom.Core.Api;

public sealed record SignedStatement(string Party, string Jws);

public sealed record ContractView(ContractDocument Contract, string Hash, string State, IReadOnlyList<SignedStatement> Signatures, IReadOnlyList<DatasetView> Datasets);

public sealed record DatasetView(string Name, string Owner, string State, string? KeyName, string? KeyVersion, string? CiphertextSha256, long? CiphertextLength, DateTimeOffset? PublishedAt);

/// <summary>The dataset's key-encryption key (RSA, public part) that the provider wraps its data key to.</summary>
public sealed record DatasetKeyView(string KeyName, string KeyVersion, string PublicKeyPem, string ReleasePolicy);

public sealed record ProposeComputationRequest(ComputationDocument Computation);

public sealed record ComputationView(
    ComputationDocument Computation,
    string Hash,
    string State,
    IReadOnlyList<string> RequiredApprovers,
    IReadOnlyList<SignedStatement> Votes,
    IReadOnlyList<string> Tables,
    string AnalysisSummary);

public sealed record VoteRequest(string Jws);

/// <summary>A run request's body: the hash of the computation the analyst means (its id is in the path) and the parameter values.</summary>
public sealed record RunRequest(string ComputationHash, IReadOnlyDictionary<string, string> Parameters);

public sealed record JobView(string Id, string ContractId, string ComputationId, string RequestedBy, string State, string? ReasonCode, string? Reason, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What the enclave receives when it claims a job: every signed statement it must check itself.</summary>
public sealed record EnclaveJobTicket(
    string JobId,
    ContractDocument Contract,
    IReadOnlyList<SignedStatement> ContractSignatures,
    ComputationDocument Computation,
    IReadOnlyList<string> RequiredApprovers,
    IReadOnlyList<SignedStatement> Votes,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<EnclaveDatasetTicket> Datasets,
    long StartedAuditIndex,
    SignedRunRequest? RunRequest = null);

/// <summary>
/// A run request exactly as the server authenticated it: the analyst's key id, the signed path, timestamp, nonce and
/// signature, and the body (base64url). The enclave checks it with <see cref="RunRequestVerifier"/>.
/// </summary>
public sealed record SignedRunRequest(string KeyId, string PathAndQuery, long Timestamp, string Nonce, string Signature, string Body);

public sealed record EnclaveDatasetTicket(string Name, string KeyName, string KeyVersion, string CiphertextSha256, long CiphertextLength);

public sealed record WrappedDatasetKey(string Name, string KeyName, string WrappedKey);

public sealed record DatasetKeysResponse(IReadOnlyList<WrappedDatasetKey> Keys);

public sealed record JobFailureReport(string Code, string Reason, string Outcome);

public sealed record ResultSubmission(string ResultJws);

/// <summary>
/// Everything needed to verify a result offline: the signed record, the contract and its signatures,
/// the computation and its votes, and the attestation authority's keys as they were when fetched.
/// </summary>
public sealed record ResultBundle(
    string Format,
    string ResultJws,
    ContractDocument Contract,
    IReadOnlyList<SignedStatement> ContractSignatures,
    ComputationDocument Computation,
    IReadOnlyList<string> RequiredApprovers,
    IReadOnlyList<SignedStatement> Votes,
    IReadOnlyList<DatasetView> Datasets,
    string AttestationIssuer,
    JsonElement AttestationJwks,
    long? AuditIndex,
    AuditReceipt? AuditReceipt = null);

/// <summary>The differential-privacy budgets of a contract's datasets, as the ledger holds them now.</summary>
public sealed record BudgetReport(string ContractId, IReadOnlyList<DatasetBudgetView> Datasets);

/// <summary>
/// One dataset's budget: <paramref name="Total"/> from the contract (null: no budget, dp runs refused), what the
/// charges add up to, what remains (null without a budget), and every charge in order.
/// </summary>
public sealed record DatasetBudgetView(string Dataset, string Owner, PrivacyBudget? Total, PrivacyBudget Spent, PrivacyBudget? Remaining, int ChargeCount, IReadOnlyList<BudgetChargeView> Charges);

/// <summary>One never-refunded charge: the job that paid it and its (ε, δ).</summary>
public sealed record BudgetChargeView(string JobId, string ComputationId, decimal Epsilon, decimal Delta, DateTimeOffset ChargedAt);

/// <summary>A consent withdrawal in force: its scope (dataset, computation or contract), target, the provider and when.</summary>
public sealed record ConsentRevocation(string Scope, string Target, string Party, string RevokedAt);

public sealed record ServerInfo(string Version, string ServerKey, string AttestationIssuer, bool SimulatedAttestation);

public sealed record Problem(string Type, string Title, int Status, string? Detail, string Code);

/// <summary>
/// The server's answer to an enclave's heartbeat on a running job: the job's state (anything but
/// "running" tells the enclave to stop at once), the reason it stopped, and the lease now granted.
/// </summary>
public sealed record JobHeartbeat(string JobId, string State, string? ReasonCode, string? Reason, int LeaseMilliseconds);

using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Envelope;
using CleanRoom.KeyRelease;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave;

/// <summary>
/// Runs one claimed job inside the enclave. Order matters: verify every signed statement →
/// analyse the SQL → obtain keys (attestation lock, then consent lock) → decrypt into memory →
/// lock DuckDB down → run → threshold → seal to the recipients → sign. Any doubt refuses the job.
/// </summary>
public sealed class JobRunner(EnclaveServerClient server, EnclaveKeys keys, EnclaveOptions options, TimeProvider time)
{
    /// <summary>Runs the job and submits its signed result; throws <see cref="JobRefusalException"/> on any refusal.</summary>
    public async Task<string> RunAsync(EnclaveJobTicket ticket, CancellationToken cancellationToken)
    {
        var contract = ticket.Contract;
        var computation = ticket.Computation;

        // 1. Signed statements, checked here without trusting the server.
        if (ApprovalVerifier.VerifyContract(contract, ticket.ContractSignatures) is { } contractError)
        {
            throw new JobRefusalException("contract.not_signed", "job refused: " + contractError);
        }

        if (!contract.IsWithinValidity(time.GetUtcNow()))
        {
            throw new JobRefusalException("contract.not_active", $"job refused: contract '{contract.Id}' is outside its validity window");
        }

        using var analyzer = new SqlAnalyzer();
        var catalog = ContractCatalog.From(contract);
        var analysis = analyzer.Analyze(computation.Sql, catalog, ContractCatalog.Parameters(computation));
        if (!analysis.IsAllowed)
        {
            throw new JobRefusalException(analysis.ErrorCode!, "job refused: " + analysis.Reason);
        }

        var required = ApprovalVerifier.RequiredApprovers(contract, analysis.Tables);
        if (ApprovalVerifier.VerifyApprovals(contract, computation, required, ticket.Votes) is { } approvalError)
        {
            throw new JobRefusalException("computation.not_approved", "job refused: " + approvalError);
        }

        var dpPlan = DpExecution.PlanOrNull(contract, computation, analysis, analyzer);
        if (dpPlan is null && computation.Privacy.Mode != PrivacySpec.AggregateMode)
        {
            throw new JobRefusalException("privacy.bad_spec", "job refused: the privacy specification is neither an aggregate threshold nor a dp plan");
        }

        if (dpPlan is null && computation.Privacy.MinDistinctUnits < contract.MinimumK)
        {
            // The same code as the server's refusal at proposal.
            throw new JobRefusalException("privacy.k_too_small", $"job refused: k = {computation.Privacy.MinDistinctUnits} is below the contract's minimum k = {contract.MinimumK}");
        }

        // The parameter values are an analyst's signed word, not the server's: the enclave checks the forwarded request.
        if (RunRequestVerifier.Verify(contract, computation, ticket.JobId, ticket.RunRequest, ticket.Parameters, time.GetUtcNow()) is { } requestError)
        {
            throw new JobRefusalException("job.unsigned_request", "job refused: " + requestError);
        }

        var parameters = ParameterBinder.Validate(ticket.Parameters, ContractCatalog.Parameters(computation));
        if (!parameters.IsValid)
        {
            throw new JobRefusalException(parameters.ErrorCode!, "job refused: " + parameters.Reason);
        }

        var rewritten = dpPlan is null ? ThresholdRewriter.Rewrite(computation.Sql, analysis, catalog, analyzer) : null;

        // 2. Keys: the consent lock (wrapped data keys for this job) and the attestation lock (KEK release).
        var wrapped = await server.DatasetKeysAsync(ticket.JobId, cancellationToken);

        using var sandbox = new SqlSandbox(options.MemoryLimit);
        using var interrupt = sandbox.InterruptOn(cancellationToken);
        var digests = new List<DatasetDigest>();
        foreach (var table in analysis.Tables.Distinct().Order(StringComparer.Ordinal))
        {
            var declaration = contract.FindDataset(table)!;
            var datasetTicket = ticket.Datasets.FirstOrDefault(d => d.Name == table)
                ?? throw new JobRefusalException("dataset.not_published", $"job refused: dataset '{table}' is not published");
            var wrappedKey = wrapped.Keys.FirstOrDefault(k => k.Name == table)
                ?? throw new JobRefusalException("dataset.no_key", $"job refused: no wrapped key was released for dataset '{table}'");
            var dataKey = await ReleaseDataKeyAsync(datasetTicket, wrappedKey, cancellationToken);
            try
            {
                await LoadAsync(ticket.JobId, declaration, contract.DatasetEnvelopeId(table), datasetTicket, dataKey, sandbox, cancellationToken);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dataKey);
            }

            digests.Add(new DatasetDigest(table, datasetTicket.CiphertextSha256));
        }

        // 3. Lock down, run, threshold (or, in dp mode, the per-unit DP pipeline).
        var (columns, jsonRows, privacy) = dpPlan is not null
            ? DpExecution.Run(sandbox, dpPlan, parameters.Parameters, computation.Privacy.Dp!)
            : RunAggregate(sandbox, rewritten!, parameters.Parameters, computation.Privacy.MinDistinctUnits);

        // 4. Seal the output to each recipient: the server and anyone else only ever see ciphertext.
        var output = ResultRecord.SerializeOutput(columns, jsonRows);
        var outputSha256 = Hashing.Sha256Hex(output);
        var outputs = new List<ResultOutput>();
        try
        {
            foreach (var recipient in computation.Recipients.Distinct(StringComparer.Ordinal))
            {
                if (contract.FindParty(recipient) is not { } party || !party.Has(Roles.ResultRecipient) || !PartyKeys.TryImportEncryptionPublicKey(party.EncryptionKey, out var recipientKey))
                {
                    throw new JobRefusalException("result.bad_recipient", $"job refused: result recipient '{recipient}' is not a result-recipient party with an X25519 key in the contract");
                }

                outputs.Add(ResultRecord.SealOutput(recipient, recipientKey!, ticket.JobId, outputSha256, output));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
        }

        if (outputs.Count == 0)
        {
            throw new JobRefusalException("result.bad_recipient", "job refused: the computation names no result recipient");
        }

        var record = new ResultRecord
        {
            JobId = ticket.JobId,
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
            ComputationId = computation.Id,
            ComputationHash = computation.Hash(),
            SqlSha256 = computation.SqlSha256(),
            Parameters = ticket.Parameters,
            Datasets = digests,
            AttestationToken = server.Token!,
            Privacy = privacy,
            JobAuditIndex = ticket.StartedAuditIndex,
            Columns = columns,
            RowCount = jsonRows.Count,
            Outputs = outputs,
            OutputSha256 = outputSha256,
            IssuedAt = time.GetUtcNow(),
        };
        var jws = Jws.Sign(record, keys.SigningKey, StatementTypes.Result);
        await server.ConfirmStillRunningAsync(ticket.JobId, cancellationToken);
        await server.SubmitResultAsync(ticket.JobId, jws, cancellationToken);
        return jws;
    }

    private static (IReadOnlyList<string> Columns, List<IReadOnlyList<JsonElement>> Rows, PrivacyOutcome Privacy) RunAggregate(
        SqlSandbox sandbox, string rewritten, IReadOnlyList<BoundParameter> parameters, int k)
    {
        var filtered = EnclavePipeline.Execute(sandbox, rewritten, parameters, k);
        var rows = filtered.Rows.Select(r => (IReadOnlyList<JsonElement>)r.Select(ToJson).ToList()).ToList();
        // The number of suppressed groups is not released: with WHERE email = 'target…' it would be 1 when that person exists
        // and 0 when not, the very membership the threshold hides. The record says 0, as in dp mode.
        return (filtered.Columns, rows, new PrivacyOutcome("aggregate", k, 0));
    }

    private async Task<byte[]> ReleaseDataKeyAsync(EnclaveDatasetTicket dataset, WrappedDatasetKey wrappedKey, CancellationToken cancellationToken)
    {
        var nonce = Hashing.B64Url(RandomNumberGenerator.GetBytes(16));
        var release = await server.ReleaseVerifiedKeyAsync(dataset.KeyName, dataset.KeyVersion, nonce, time.GetUtcNow(), cancellationToken);
        if (!release.IsSuccess)
        {
            throw new JobRefusalException(release.ErrorCode!, $"job refused: the key release response for '{dataset.Name}' does not verify ({release.Reason})");
        }

        using var unwrapped = KeyHsmEnvelope.TryOpen(release.Value!.KeyHsm, keys.EncryptionKey);
        if (!unwrapped.IsSuccess)
        {
            throw new JobRefusalException(unwrapped.ErrorCode!, $"job refused: the released key for '{dataset.Name}' cannot be unwrapped ({unwrapped.Reason})");
        }

        if (!RsaTargetKey.TryImport(unwrapped.Key, out var kek))
        {
            throw new JobRefusalException("key.bad_kek", $"job refused: the released key for '{dataset.Name}' is not an RSA private key");
        }

        using (kek)
        {
            if (!Hashing.TryFromB64Url(wrappedKey.WrappedKey, out var wrappedBytes))
            {
                throw new JobRefusalException("key.bad_wrapped_key", $"job refused: the wrapped data key of '{dataset.Name}' is malformed");
            }

            return DataKeyWrapping.TryUnwrap(wrappedBytes, kek)
                ?? throw new JobRefusalException("key.unwrap_failed", $"job refused: the data key of '{dataset.Name}' does not unwrap under its released key (wrong key or tampered)");
        }
    }

    private async Task LoadAsync(string jobId, DatasetDeclaration declaration, string envelopeId, EnclaveDatasetTicket dataset, byte[] dataKey, SqlSandbox sandbox, CancellationToken cancellationToken)
    {
        using var response = await server.CiphertextAsync(jobId, dataset.Name, cancellationToken);
        await EnclavePipeline.LoadEncryptedAsync(await response.Content.ReadAsStreamAsync(cancellationToken), dataKey, declaration, envelopeId, dataset.CiphertextSha256, sandbox, cancellationToken);
    }

    internal static JsonElement ToJson(object? value) => value switch
    {
        null => JsonSerializer.SerializeToElement<object?>(null),
        BigInteger b when b >= long.MinValue && b <= long.MaxValue => JsonSerializer.SerializeToElement((long)b),
        BigInteger b => JsonSerializer.SerializeToElement(b.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        double d when double.IsNaN(d) || double.IsInfinity(d) => JsonSerializer.SerializeToElement<object?>(null),
        float f when float.IsNaN(f) || float.IsInfinity(f) => JsonSerializer.SerializeToElement<object?>(null),
        DateOnly d => JsonSerializer.SerializeToElement(d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
        DateTime dt => JsonSerializer.SerializeToElement(dt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
        string or bool or long or int or short or sbyte or byte or ushort or uint or ulong or decimal or double or float => JsonSerializer.SerializeToElement(value, value.GetType()),
        _ => JsonSerializer.SerializeToElement(value.ToString()),
    };
}

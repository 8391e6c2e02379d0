using System.Security.Cryptography;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Envelope;

namespace CleanRoom.Cli;

/// <summary>What a party does against the server. Commands and the demo both call these.</summary>
internal static class PartyOperations
{
    public static Task<JsonAck> DraftContractAsync(ApiClient api, byte[] contractJson, CancellationToken ct)
    {
        var parsed = ContractDocument.Parse(contractJson);
        if (!parsed.IsValid)
        {
            throw new CliException("contract refused: " + parsed.Error, "contract.malformed");
        }

        return api.PostRawAsync<JsonAck>("api/contracts", contractJson, ct);
    }

    public static async Task<JsonAck> SignContractAsync(ApiClient api, string contractId, CancellationToken ct)
    {
        var view = await api.GetAsync<ContractView>($"api/contracts/{contractId}", ct);
        var hash = view.Contract.Hash();
        if (hash != view.Hash)
        {
            throw new CliException($"refusing to sign: the server's hash for contract '{contractId}' does not match its content", "contract.hash_mismatch");
        }

        var statement = new ContractSignatureStatement(contractId, view.Contract.Version, hash, api.Party.Name, DateTimeOffset.UtcNow);
        var jws = Jws.Sign(statement, api.Party.SigningKey, StatementTypes.ContractSignature);
        return await api.PostAsync<JsonAck>($"api/contracts/{contractId}/signatures", new VoteRequest(jws), ct);
    }

    /// <summary>Terminates an active contract (contract manager only); returns the jobs it cancelled.</summary>
    public static Task<ContractTerminated> TerminateContractAsync(ApiClient api, string contractId, string? reason, CancellationToken ct) =>
        api.PostAsync<ContractTerminated>($"api/contracts/{contractId}/terminate", new TerminateContract(reason), ct);

    /// <summary>
    /// The contract a provider binds its envelope to (<see cref="ContractDocument.DatasetEnvelopeId"/>): the one the server
    /// shows, only if it hashes to the server's hash and declares <paramref name="name"/> as this party's own under this
    /// party's key. Bound to a contract the operator made up instead, the data could run under that contract's approvals;
    /// one that names this party as owner would need this party's signature, which the enclave checks.
    /// </summary>
    internal static ContractDocument ContractToBindTo(ContractView view, string contractId, string name, PartyKeys party)
    {
        var contract = view.Contract;
        if (contract.Hash() != view.Hash || contract.Id != contractId)
        {
            throw new CliException($"refusing to publish: the server's hash for contract '{contractId}' does not match its content", "contract.hash_mismatch");
        }

        if (contract.FindDataset(name) is not { } declared || declared.Owner != party.Name
            || contract.FindParty(party.Name)?.SigningKey != party.Identity.SigningKey)
        {
            throw new CliException($"refusing to publish: contract '{contractId}' does not declare dataset '{name}' as owned by '{party.Name}' with this party's key", "dataset.not_owner");
        }

        return contract;
    }

    /// <summary>Creates the dataset's key at the broker, encrypts the file client-side and uploads only ciphertext and the wrapped key.</summary>
    public static async Task<PublishedDataset> PublishDatasetAsync(ApiClient api, string contractId, string name, string file, string workDirectory, IProgress<(string Stage, long Done, long Total)>? progress, CancellationToken ct, int chunkSize = DatasetEnvelope.DefaultChunkSize)
    {
        // Checked before anything else: writing the ciphertext over its own input would destroy the only plaintext copy.
        var cipherPath = Path.Combine(workDirectory, name + ".cre");
        if (string.Equals(Path.GetFullPath(file), Path.GetFullPath(cipherPath), StringComparison.Ordinal))
        {
            throw new CliException($"refusing to publish: {file} is where the ciphertext would be written; rename the input file", "dataset.input_is_output");
        }

        var key = await api.PostAsync<DatasetKeyView>($"api/contracts/{contractId}/datasets/{name}/key", null, ct);
        var contract = ContractToBindTo(await api.GetAsync<ContractView>($"api/contracts/{contractId}", ct), contractId, name, api.Party);
        var dataKey = RandomNumberGenerator.GetBytes(DataKeyWrapping.DataKeySize);
        try
        {
            var total = new FileInfo(file).Length;
            EnvelopeInfo info;
            await using (var input = File.OpenRead(file))
            await using (var output = new FileStream(cipherPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var contentType = file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "application/vnd.apache.parquet" : "text/csv";
                info = await DatasetEnvelope.EncryptAsync(input, output, dataKey, new EnvelopeOptions { DatasetId = contract.DatasetEnvelopeId(name), ContentType = contentType, ChunkSize = chunkSize },
                    progress is null ? null : new Progress<long>(n => progress.Report(("encrypt", n, total))), ct);
            }

            var wrapped = DataKeyWrapping.Wrap(dataKey, key.PublicKeyPem);
            var sha = Convert.ToHexStringLower(info.CiphertextSha256);
            var cipherLength = new FileInfo(cipherPath).Length;
            // The wrapped key travels in a header, which the request signature does not cover; its digest in the (signed) query binds it.
            var ack = await api.PutFileAsync<PublishedDataset>(
                $"api/contracts/{contractId}/datasets/{name}/ciphertext?wrappedKeySha256={Hashing.Sha256Hex(wrapped)}",
                cipherPath,
                sha,
                new Dictionary<string, string> { ["CleanRoom-Wrapped-Key"] = Hashing.B64Url(wrapped) },
                progress is null ? null : new Progress<long>(n => progress.Report(("upload", n, cipherLength))),
                ct);
            return ack;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public static Task<ComputationView> ProposeAsync(ApiClient api, ComputationDocument computation, CancellationToken ct) =>
        api.PostAsync<ComputationView>($"api/contracts/{computation.ContractId}/computations", new ProposeComputationRequest(computation), ct);

    public static async Task<(ComputationView View, JsonAck Ack)> VoteAsync(ApiClient api, string computationId, string decision, CancellationToken ct)
    {
        var view = await api.GetAsync<ComputationView>($"api/computations/{computationId}", ct);
        var hash = view.Computation.Hash();
        if (hash != view.Hash)
        {
            throw new CliException($"refusing to vote: the server's hash for computation '{computationId}' does not match its content", "computation.hash_mismatch");
        }

        var vote = new VoteStatement(view.Computation.ContractId, computationId, hash, api.Party.Name, decision, DateTimeOffset.UtcNow);
        var jws = Jws.Sign(vote, api.Party.SigningKey, StatementTypes.Vote);
        var ack = await api.PostAsync<JsonAck>($"api/computations/{computationId}/votes", new VoteRequest(jws), ct);
        return (view, ack);
    }

    public static Task<BudgetReport> GetBudgetAsync(ApiClient api, string contractId, CancellationToken ct) =>
        api.GetAsync<BudgetReport>($"api/contracts/{contractId}/budget", ct);

    /// <summary>
    /// Requests a run of the computation as the server shows it: the request signs the hash of that document (computed here,
    /// not taken from the server), so the enclave runs exactly it and nothing proposed under the same id.
    /// </summary>
    public static async Task<JobView> RunAsync(ApiClient api, string computationId, IReadOnlyDictionary<string, string> parameters, CancellationToken ct)
    {
        var view = await api.GetAsync<ComputationView>($"api/computations/{computationId}", ct);
        var hash = view.Computation.Hash();
        if (hash != view.Hash || view.Computation.Id != computationId)
        {
            throw new CliException($"refusing to run: the server's computation '{computationId}' does not match its hash or id", "computation.hash_mismatch");
        }

        return await api.PostAsync<JobView>($"api/computations/{computationId}/jobs", new RunRequest(hash, parameters), ct);
    }

    public static async Task<JobView> WaitAsync(ApiClient api, string jobId, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var job = await api.GetAsync<JobView>($"api/jobs/{jobId}", ct);
            if (job.State is "finished" or "failed" or "refused" or "cancelled")
            {
                return job;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new CliException($"job '{jobId}' is still {job.State} after {timeout.TotalSeconds:0} s", "job.timeout");
            }

            await Task.Delay(200, ct);
        }
    }
}

internal sealed record JsonAck(string? Id, string? State, string? Hash);

internal sealed record PublishedDataset(string Name, string CiphertextSha256, long CiphertextLength);

internal sealed record TerminateContract(string? Reason);

internal sealed record ContractTerminated(string Id, string State, IReadOnlyList<string> CancelledJobs);

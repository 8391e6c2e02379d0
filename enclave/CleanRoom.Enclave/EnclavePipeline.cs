using CleanRoom.Core;
using CleanRoom.Envelope;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave;

/// <summary>
/// The data path inside the enclave, shared by jobs and benchmarks: ciphertext → authenticated
/// decryption into an anonymous memory file → typed DuckDB table; then lock-down → approved SQL →
/// threshold. Plaintext never reaches a disk-backed file.
/// </summary>
public static class EnclavePipeline
{
    public const string ParquetContentType = "application/vnd.apache.parquet";

    /// <summary>
    /// Decrypts <paramref name="ciphertext"/> and loads it as table <paramref name="declaration"/>.Name.
    /// Refuses (JobRefusalException) on any authentication failure or when the ciphertext's SHA-256 differs from
    /// <paramref name="expectedSha256"/>; in both cases the table is not created.
    /// </summary>
    /// <param name="expectedDatasetId">The envelope's dataset id, <see cref="ContractDocument.DatasetEnvelopeId"/> of the verified contract.</param>
    public static async Task LoadEncryptedAsync(Stream ciphertext, ReadOnlyMemory<byte> dataKey, DatasetDeclaration declaration, string expectedDatasetId, string expectedSha256, SqlSandbox sandbox, CancellationToken cancellationToken)
    {
        using var memory = MemoryFile.Create("cleanroom-" + declaration.Name);
        await using var hashing = new HashingReadStream(ciphertext);
        EnvelopeDecryptResult decrypted;
        await using (var plaintext = memory.OpenWrite())
        {
            decrypted = await DatasetEnvelope.DecryptAsync(hashing, plaintext, dataKey, expectedDatasetId, cancellationToken: cancellationToken);
        }

        if (!decrypted.Success)
        {
            throw new JobRefusalException(decrypted.ErrorCode!, $"job refused: dataset '{declaration.Name}' does not decrypt: {decrypted.Reason}");
        }

        if (hashing.HashHex() != expectedSha256)
        {
            throw new JobRefusalException("dataset.digest_mismatch", $"job refused: the ciphertext of '{declaration.Name}' differs from the published SHA-256");
        }

        try
        {
            if (decrypted.Header?.ContentType == ParquetContentType)
            {
                sandbox.LoadParquet(declaration, memory.Path);
            }
            else
            {
                sandbox.LoadCsv(declaration, memory.Path);
            }
        }
        catch (DuckDB.NET.Data.DuckDBException)
        {
            // The engine's message may quote a data value: say only what failed.
            throw new JobRefusalException("dataset.unreadable", $"job failed: dataset '{declaration.Name}' does not match its declared schema", isPolicyRefusal: false);
        }
    }

    /// <summary>Locks the sandbox down, runs the threshold-rewritten SQL and removes groups below k distinct units.</summary>
    public static ThresholdFilterResult Execute(SqlSandbox sandbox, string rewrittenSql, IReadOnlyList<BoundParameter> parameters, int k)
    {
        sandbox.LockDown();
        List<string> columns;
        List<object?[]> rows;
        try
        {
            (columns, rows) = sandbox.Query(rewrittenSql, parameters);
        }
        catch (DuckDB.NET.Data.DuckDBException)
        {
            throw new JobRefusalException("sql.execution_failed", "job failed: the approved SQL failed to execute inside the enclave", isPolicyRefusal: false);
        }

        return ThresholdFilter.Apply(columns, rows, k);
    }
}

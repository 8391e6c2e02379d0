namespace CleanRoom.Envelope;

/// <summary>What to write into an envelope header. Checked by <see cref="DatasetEnvelope.EncryptAsync"/>.</summary>
public sealed record EnvelopeOptions
{
    /// <summary>The dataset id bound into the header; 1..255 UTF-8 bytes, no control characters.</summary>
    public required string DatasetId { get; init; }

    /// <summary>Media type of the plaintext (e.g. <c>text/csv</c>, <c>application/vnd.apache.parquet</c>); 1..255 UTF-8 bytes.</summary>
    public string ContentType { get; init; } = "text/csv";

    /// <summary>Plaintext bytes per chunk, from <see cref="DatasetEnvelope.MinChunkSize"/> to <see cref="DatasetEnvelope.MaxChunkSize"/>.</summary>
    public int ChunkSize { get; init; } = DatasetEnvelope.DefaultChunkSize;
}

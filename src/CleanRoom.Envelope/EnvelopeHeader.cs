namespace CleanRoom.Envelope;

/// <summary>
/// A parsed envelope header (see SECURITY.md (Dataset envelope)). A header read alone (<see cref="DatasetEnvelope.TryReadHeader(Stream, out EnvelopeHeader?, out string?)"/>)
/// is <b>not authenticated</b>: it is authenticated only by decrypting the chunks that bind it.
/// </summary>
public sealed class EnvelopeHeader
{
    private readonly byte[] _bytes;

    internal EnvelopeHeader(byte[] bytes, int chunkSize, string datasetId, string contentType)
    {
        _bytes = bytes;
        ChunkSize = chunkSize;
        DatasetId = datasetId;
        ContentType = contentType;
    }

    /// <summary>Format version (currently <see cref="DatasetEnvelope.FormatVersion"/>).</summary>
    public int Version => _bytes[Internal.EnvelopeLayout.VersionOffset];

    /// <summary>Algorithm suite id (currently <see cref="DatasetEnvelope.AlgorithmAes256GcmHkdfSha256"/>).</summary>
    public int Algorithm => _bytes[Internal.EnvelopeLayout.AlgorithmOffset];

    /// <summary>Plaintext bytes per chunk.</summary>
    public int ChunkSize { get; }

    /// <summary>The dataset id written by the encryptor.</summary>
    public string DatasetId { get; }

    /// <summary>The media type of the plaintext.</summary>
    public string ContentType { get; }

    /// <summary>Length of the header in bytes; the first chunk starts at this offset.</summary>
    public int Length => _bytes.Length;

    /// <summary>The exact header bytes, hashed into the associated data of every chunk.</summary>
    internal ReadOnlySpan<byte> Bytes => _bytes;

    internal ReadOnlySpan<byte> Salt => _bytes.AsSpan(Internal.EnvelopeLayout.SaltOffset, Internal.EnvelopeLayout.SaltSize);

    internal ReadOnlySpan<byte> NoncePrefix => _bytes.AsSpan(Internal.EnvelopeLayout.NoncePrefixOffset, Internal.EnvelopeLayout.NoncePrefixSize);
}

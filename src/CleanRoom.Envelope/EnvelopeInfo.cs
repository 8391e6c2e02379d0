namespace CleanRoom.Envelope;

/// <summary>
/// What <see cref="DatasetEnvelope.EncryptAsync"/> wrote. <see cref="CiphertextSha256"/> is the
/// SHA-256 of every byte written (header and chunks), the digest the dataset registry records.
/// </summary>
public sealed record EnvelopeInfo(long PlaintextLength, long CiphertextLength, byte[] CiphertextSha256, string DatasetId, string ContentType);

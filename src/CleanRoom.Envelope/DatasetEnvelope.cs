// Dataset envelope, format version 1: a streaming AEAD file format (specified byte by byte in SECURITY.md (Dataset envelope)).
//   Chunk AEAD: AES-256-GCM, NIST SP 800-38D; 32-byte key, 12-byte nonce, 16-byte tag.
//   Per-file subkey: HKDF-SHA256, RFC 5869; IKM = 32-byte DEK, salt = 32 random bytes per file.
//   Chunking: the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, "Online
//   Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance" (CRYPTO 2015), in Tink's
//   layout: nonce = 7-byte random prefix ‖ 4-byte big-endian chunk counter ‖ 1-byte last-chunk flag.
//   Associated data of every chunk: SHA-256 (FIPS 180-4) of the exact header bytes.
using System.Buffers;
using System.Security.Cryptography;
using CleanRoom.Envelope.Internal;

namespace CleanRoom.Envelope;

/// <summary>
/// Encrypts and decrypts datasets in the CleanRoom envelope format, chunk by chunk in constant
/// memory (about two chunks of buffers whatever the file size).
/// </summary>
public static class DatasetEnvelope
{
    /// <summary>Size in bytes of the data key (DEK).</summary>
    public const int KeySize = 32;

    /// <summary>The format version this build writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Algorithm suite 1: HKDF-SHA256 subkey, AES-256-GCM chunks, STREAM nonces.</summary>
    public const byte AlgorithmAes256GcmHkdfSha256 = 1;

    /// <summary>Smallest chunk size accepted when writing or reading (4 KiB).</summary>
    public const int MinChunkSize = 4 * 1024;

    /// <summary>Largest chunk size accepted when writing or reading (16 MiB), so a hostile header cannot make a reader allocate more.</summary>
    public const int MaxChunkSize = 16 * 1024 * 1024;

    /// <summary>Default chunk size (1 MiB).</summary>
    public const int DefaultChunkSize = 1024 * 1024;

    /// <summary>Size of the authentication tag that ends every chunk.</summary>
    public const int TagSize = EnvelopeLayout.TagSize;

    /// <summary>
    /// Encrypts all of <paramref name="plaintext"/> into <paramref name="ciphertext"/>, and returns
    /// the lengths and the SHA-256 of the bytes written. Neither stream is disposed.
    /// </summary>
    /// <param name="progress">Receives the number of plaintext bytes encrypted so far, after each chunk.</param>
    /// <exception cref="ArgumentException">The key is not <see cref="KeySize"/> bytes or the options are out of bounds.</exception>
    /// <exception cref="InvalidOperationException">The plaintext needs more than 2^32 chunks.</exception>
    public static async Task<EnvelopeInfo> EncryptAsync(
        Stream plaintext,
        Stream ciphertext,
        ReadOnlyMemory<byte> dataKey,
        EnvelopeOptions options,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(ciphertext);
        CheckKey(dataKey);
        EnvelopeHeader header = EnvelopeHeaderCodec.Create(options);

        int chunkSize = header.ChunkSize;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var cipher = new ChunkCipher(dataKey.Span, header);
        byte[] input = ArrayPool<byte>.Shared.Rent(chunkSize + 1);
        byte[] output = ArrayPool<byte>.Shared.Rent(chunkSize + EnvelopeLayout.TagSize);
        try
        {
            byte[] headerBytes = header.Bytes.ToArray();
            await ciphertext.WriteAsync(headerBytes, cancellationToken).ConfigureAwait(false);
            hash.AppendData(headerBytes);
            long plaintextLength = 0;
            long ciphertextLength = headerBytes.Length;

            // Read one byte past a full chunk to learn whether it is the last one (see ChunkDecryptor).
            int carried = 0;
            for (long counter = 0; ; counter++)
            {
                if (counter > uint.MaxValue)
                {
                    throw new InvalidOperationException($"Refused to encrypt: the plaintext needs more than 2^32 chunks of {chunkSize} bytes; use a larger chunk size.");
                }

                int want = chunkSize + 1 - carried;
                int read = await plaintext.ReadAtLeastAsync(input.AsMemory(carried, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                int available = carried + read;
                bool last = available <= chunkSize;
                int length = last ? available : chunkSize;

                int written = cipher.Encrypt((uint)counter, last, input.AsSpan(0, length), output);
                await ciphertext.WriteAsync(output.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                hash.AppendData(output, 0, written);
                plaintextLength += length;
                ciphertextLength += written;
                progress?.Report(plaintextLength);

                if (last)
                {
                    break;
                }

                input[0] = input[chunkSize];
                carried = 1;
            }

            await ciphertext.FlushAsync(cancellationToken).ConfigureAwait(false);
            return new EnvelopeInfo(plaintextLength, ciphertextLength, hash.GetHashAndReset(), header.DatasetId, header.ContentType);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input.AsSpan(0, chunkSize + 1));
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// Decrypts the whole envelope from <paramref name="ciphertext"/> into <paramref name="plaintext"/>.
    /// Each chunk is written only after it authenticates, and nothing is written after a failure;
    /// but chunks written before a later chunk fails stay written, so callers must discard the
    /// output unless <see cref="EnvelopeDecryptResult.Success"/> is true. Neither stream is disposed.
    /// </summary>
    /// <param name="expectedDatasetId">The dataset id the header must carry (ordinal comparison).</param>
    /// <param name="progress">Receives the number of plaintext bytes written so far, after each chunk.</param>
    /// <exception cref="ArgumentException">The key is not <see cref="KeySize"/> bytes.</exception>
    public static async Task<EnvelopeDecryptResult> DecryptAsync(
        Stream ciphertext,
        Stream plaintext,
        ReadOnlyMemory<byte> dataKey,
        string expectedDatasetId,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(expectedDatasetId);
        CheckKey(dataKey);

        HeaderScan scan = await EnvelopeHeaderCodec.ReadAsync(ciphertext, cancellationToken).ConfigureAwait(false);
        if (CheckHeader(scan, expectedDatasetId) is { } headerError)
        {
            return EnvelopeDecryptResult.Failed(headerError.Code, headerError.Reason, scan.Header, 0);
        }

        EnvelopeHeader header = scan.Header!;
        using var decryptor = new ChunkDecryptor(dataKey.Span, header);
        byte[] output = ArrayPool<byte>.Shared.Rent(header.ChunkSize);
        long written = 0;
        try
        {
            while (true)
            {
                Memory<byte> pending = decryptor.PendingRead;
                int read = await ciphertext.ReadAtLeastAsync(pending, pending.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                ChunkStep step = decryptor.Open(read, output);
                if (step.Error is { } error)
                {
                    return EnvelopeDecryptResult.Failed(error.Code, error.Reason, header, written);
                }

                await plaintext.WriteAsync(output.AsMemory(0, step.PlaintextLength), cancellationToken).ConfigureAwait(false);
                written += step.PlaintextLength;
                progress?.Report(written);
                if (step.IsFinal)
                {
                    await plaintext.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return EnvelopeDecryptResult.Succeeded(header, written);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output.AsSpan(0, header.ChunkSize));
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// Opens a read-only, forward-only stream of the plaintext. Each chunk is authenticated before
    /// any of its bytes are returned; tampering, truncation, a wrong key or dataset id make a read
    /// throw <see cref="EnvelopeAuthenticationException"/>, and end of stream is reported only after
    /// the final chunk authenticated. Nothing is read until the first read. The key is copied.
    /// </summary>
    /// <param name="leaveOpen">False (default) to dispose <paramref name="ciphertext"/> with the returned stream.</param>
    /// <exception cref="ArgumentException">The key is not <see cref="KeySize"/> bytes.</exception>
    public static EnvelopeReadStream OpenRead(Stream ciphertext, ReadOnlyMemory<byte> dataKey, string expectedDatasetId, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(expectedDatasetId);
        CheckKey(dataKey);
        if (!ciphertext.CanRead)
        {
            throw new ArgumentException("The ciphertext stream must be readable.", nameof(ciphertext));
        }

        return new EnvelopeReadStream(ciphertext, dataKey.Span, expectedDatasetId, leaveOpen);
    }

    /// <summary>
    /// Reads and checks the header only (the stream is left positioned at the first chunk). The
    /// header is <b>not authenticated</b> by this: use it to route or display, never to trust.
    /// </summary>
    /// <param name="error">On failure, a one-line reason; its code is available from the other overload.</param>
    public static bool TryReadHeader(Stream ciphertext, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EnvelopeHeader? header, out string? error) =>
        TryReadHeader(ciphertext, out header, out _, out error);

    /// <summary>As <see cref="TryReadHeader(Stream, out EnvelopeHeader?, out string?)"/>, also giving the <see cref="EnvelopeErrorCodes"/> value.</summary>
    public static bool TryReadHeader(Stream ciphertext, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EnvelopeHeader? header, out string? errorCode, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        HeaderScan scan = EnvelopeHeaderCodec.Read(ciphertext);
        header = scan.Header;
        errorCode = scan.Error?.Code;
        reason = scan.Error?.Reason;
        return header is not null;
    }

    /// <summary>Header refusal shared by <see cref="DecryptAsync"/> and <see cref="EnvelopeReadStream"/>.</summary>
    internal static EnvelopeError? CheckHeader(HeaderScan scan, string expectedDatasetId)
    {
        if (scan.Error is { } error)
        {
            return error;
        }

        return string.Equals(scan.Header!.DatasetId, expectedDatasetId, StringComparison.Ordinal)
            ? null
            : new EnvelopeError(EnvelopeErrorCodes.DatasetMismatch,
                $"Refused the envelope: its header names dataset '{scan.Header.DatasetId}', but '{expectedDatasetId}' was expected.");
    }

    private static void CheckKey(ReadOnlyMemory<byte> dataKey)
    {
        if (dataKey.Length != KeySize)
        {
            throw new ArgumentException($"The data key must be {KeySize} bytes, not {dataKey.Length}.", nameof(dataKey));
        }
    }
}

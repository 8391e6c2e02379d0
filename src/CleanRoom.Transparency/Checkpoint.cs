// A checkpoint (signed tree head) of the audit log's RFC 9162 §2.1 Merkle tree: the log's
// origin, its size, its 32-byte SHA-256 root and when it was taken. The server signs the
// canonical JSON below as a JWS payload; that JSON is RFC 8785 (JCS) canonical: members in
// code-unit order, no whitespace, integers as plain digits, minimal string escapes.
//
//   {"origin":"…","rootHash":"<base64url, 43 chars>","timestamp":"yyyy-MM-ddTHH:mm:ssZ","treeSize":n}
//
// Parsing accepts only that exact form, so one signed checkpoint has one meaning.
using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CleanRoom.Transparency;

/// <summary>A statement that the log <see cref="Origin"/> held <see cref="TreeSize"/> entries with root <see cref="RootHash"/>.</summary>
public sealed record Checkpoint
{
    /// <summary>Longest accepted origin, in characters.</summary>
    public const int MaxOriginLength = 255;

    /// <summary>Largest tree size: JCS numbers are IEEE doubles, exact up to 2^53 − 1.</summary>
    public const long MaxTreeSize = (1L << 53) - 1;

    private const string TimestampFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'";

    // Far above any valid checkpoint; bounds the work done on hostile input.
    private const int MaxJsonLength = 1024;

    /// <summary>Creates a checkpoint; <paramref name="timestamp"/> is converted to UTC and truncated to whole seconds.</summary>
    /// <exception cref="ArgumentException">An argument is outside the checkpoint format.</exception>
    public Checkpoint(string origin, long treeSize, ReadOnlySpan<byte> rootHash, DateTimeOffset timestamp)
    {
        if (OriginProblem(origin) is { } problem)
        {
            throw new ArgumentException(problem, nameof(origin));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, MaxTreeSize);
        if (rootHash.Length != MerkleHash.HashSize)
        {
            throw new ArgumentException($"a root hash is {MerkleHash.HashSize} bytes, not {rootHash.Length}", nameof(rootHash));
        }

        var utcTicks = timestamp.UtcTicks;
        Origin = origin;
        TreeSize = treeSize;
        RootHash = Base64Url.EncodeToString(rootHash);
        Timestamp = new DateTimeOffset(utcTicks - (utcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    /// <summary>The log's name: 1–255 printable ASCII characters, no spaces.</summary>
    public string Origin { get; }

    /// <summary>Number of entries the checkpoint covers.</summary>
    public long TreeSize { get; }

    /// <summary>The Merkle root, base64url without padding (RFC 4648 §5).</summary>
    public string RootHash { get; }

    /// <summary>When the checkpoint was taken, UTC, whole seconds.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>The 32 bytes of <see cref="RootHash"/>.</summary>
    public byte[] GetRootHash() => Base64Url.DecodeFromChars(RootHash);

    /// <summary>The canonical JSON that is signed: RFC 8785 form, members in lexicographic order.</summary>
    public string ToJson()
    {
        var json = new StringBuilder(160);
        json.Append("{\"origin\":");
        AppendJsonString(json, Origin);
        json.Append(",\"rootHash\":\"").Append(RootHash);
        json.Append("\",\"timestamp\":\"").Append(Timestamp.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture));
        json.Append("\",\"treeSize\":").Append(TreeSize.ToString(CultureInfo.InvariantCulture));
        json.Append('}');
        return json.ToString();
    }

    /// <summary>
    /// Parses a checkpoint from its canonical JSON. On failure <paramref name="error"/> is one line
    /// starting with a stable code (e.g. <c>checkpoint.not_canonical</c>) and never echoes the input.
    /// </summary>
    public static bool TryParse(string json, [NotNullWhen(true)] out Checkpoint? checkpoint, [NotNullWhen(false)] out string? error)
    {
        checkpoint = null;
        if (string.IsNullOrEmpty(json))
        {
            error = "checkpoint.malformed: the checkpoint is empty";
            return false;
        }

        if (json.Length > MaxJsonLength)
        {
            error = $"checkpoint.malformed: the checkpoint is longer than {MaxJsonLength} characters";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            error = "checkpoint.malformed: the checkpoint is not valid JSON";
            return false;
        }

        using (document)
        {
            if (!TryRead(document.RootElement, out var parsed, out error))
            {
                return false;
            }

            // Whitespace, member order, escapes, duplicates, unknown members and number spellings
            // all differ from the one canonical form.
            if (!string.Equals(parsed.ToJson(), json, StringComparison.Ordinal))
            {
                error = "checkpoint.not_canonical: the checkpoint is not in canonical JSON form";
                return false;
            }

            checkpoint = parsed;
            return true;
        }
    }

    private static bool TryRead(JsonElement root, [NotNullWhen(true)] out Checkpoint? checkpoint, [NotNullWhen(false)] out string? error)
    {
        checkpoint = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "checkpoint.malformed: the checkpoint is not a JSON object";
            return false;
        }

        if (!root.TryGetProperty("origin", out var originElement) || originElement.ValueKind != JsonValueKind.String)
        {
            error = "checkpoint.malformed: 'origin' is missing or not a string";
            return false;
        }

        var origin = originElement.GetString()!;
        if (OriginProblem(origin) is { } problem)
        {
            error = "checkpoint.malformed: " + problem;
            return false;
        }

        if (!root.TryGetProperty("treeSize", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number
            || !sizeElement.TryGetInt64(out var treeSize) || treeSize < 0 || treeSize > MaxTreeSize)
        {
            error = $"checkpoint.malformed: 'treeSize' is missing or not an integer between 0 and {MaxTreeSize}";
            return false;
        }

        Span<byte> rootHash = stackalloc byte[MerkleHash.HashSize];
        if (!root.TryGetProperty("rootHash", out var rootElement) || rootElement.ValueKind != JsonValueKind.String
            || !TryDecodeRootHash(rootElement.GetString()!, rootHash))
        {
            error = $"checkpoint.malformed: 'rootHash' is missing or not {MerkleHash.HashSize} bytes in base64url";
            return false;
        }

        if (!root.TryGetProperty("timestamp", out var timeElement) || timeElement.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParseExact(timeElement.GetString(), TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            error = "checkpoint.malformed: 'timestamp' is missing or not a UTC RFC 3339 time (yyyy-MM-ddTHH:mm:ssZ)";
            return false;
        }

        checkpoint = new Checkpoint(origin, treeSize, rootHash, timestamp);
        error = null;
        return true;
    }

    private static bool TryDecodeRootHash(string text, Span<byte> destination)
    {
        // 32 bytes are exactly 43 unpadded base64url characters.
        if (text.Length != 43)
        {
            return false;
        }

        // The OperationStatus overload reports bad characters and stray trailing bits instead of
        // throwing, as the Try… overload does.
        var status = Base64Url.DecodeFromChars(text, destination, out var consumed, out var written);
        return status == OperationStatus.Done && consumed == text.Length && written == MerkleHash.HashSize;
    }

    private static string? OriginProblem(string? origin)
    {
        if (string.IsNullOrEmpty(origin) || origin.Length > MaxOriginLength)
        {
            return $"the origin must be 1 to {MaxOriginLength} characters";
        }

        foreach (var c in origin)
        {
            if (c is < '!' or > '~')
            {
                return "the origin may hold only printable ASCII characters without spaces";
            }
        }

        return null;
    }

    // RFC 8785 §3.2.2.2: only '"' and '\' need escaping in a valid origin (no control characters).
    private static void AppendJsonString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                json.Append('\\');
            }

            json.Append(c);
        }

        json.Append('"');
    }
}

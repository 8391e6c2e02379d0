using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CleanRoom.Core;

/// <summary>
/// One record of the audit log. <see cref="Prev"/> is the hash of the previous entry, so editing,
/// deleting or reordering any entry breaks the chain; the leaf hash also feeds the Merkle tree.
/// </summary>
public sealed record AuditEntry
{
    public required long Seq { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>Party name, "enclave", "server" or "anonymous".</summary>
    public required string Actor { get; init; }

    /// <summary>Dotted action name, e.g. "contract.signed", "job.keys_released".</summary>
    public required string Action { get; init; }

    /// <summary>What the action is about, e.g. "contract/demo", "job/j-…".</summary>
    public required string Target { get; init; }

    /// <summary>"ok", "refused" or "failed".</summary>
    public required string Outcome { get; init; }

    /// <summary>Stable reason code for refusals and failures.</summary>
    public string? ReasonCode { get; init; }

    /// <summary>One-line human reason; never contains secrets or data rows.</summary>
    public string? Reason { get; init; }

    /// <summary>Hex SHA-256 of the previous entry's canonical JSON; 64 zeros for the first entry.</summary>
    public required string Prev { get; init; }

    public const string GenesisPrev = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>
    /// The RFC 8785 canonical JSON of the entry: byte for byte what <see cref="CanonicalJson.Serialize{T}"/>
    /// gives, written directly because the log hashes every entry (twice when verifying) and the
    /// generic path costs most of an append.
    /// </summary>
    public byte[] CanonicalBytes()
    {
        // Members in UTF-16 code-unit order, as JCS sorts them.
        var sb = new StringBuilder(256 + (Reason?.Length ?? 0));
        sb.Append("{\"action\":");
        WriteNullable(sb, Action);
        sb.Append(",\"actor\":");
        WriteNullable(sb, Actor);
        sb.Append(",\"outcome\":");
        WriteNullable(sb, Outcome);
        sb.Append(",\"prev\":");
        WriteNullable(sb, Prev);
        sb.Append(",\"reason\":");
        WriteNullable(sb, Reason);
        sb.Append(",\"reasonCode\":");
        WriteNullable(sb, ReasonCode);
        sb.Append(",\"seq\":");
        if (Math.Abs(Seq) < (1L << 53))
        {
            sb.Append(Seq.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            // Beyond 2^53 the generic path's number rules apply; never reached by a real log.
            return CanonicalJson.Serialize(this);
        }

        sb.Append(",\"target\":");
        WriteNullable(sb, Target);
        sb.Append(",\"time\":");
        CanonicalJson.WriteString(sb, FormatTime(Time));
        sb.Append('}');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static void WriteNullable(StringBuilder sb, string? value)
    {
        if (value is null)
        {
            sb.Append("null");
        }
        else
        {
            CanonicalJson.WriteString(sb, value);
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_timeBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_timeWriter;

    // Exactly System.Text.Json's DateTimeOffset form, which the generic path uses.
    private static string FormatTime(DateTimeOffset time)
    {
        var buffer = t_timeBuffer ??= new ArrayBufferWriter<byte>(64);
        buffer.ResetWrittenCount();
        var writer = t_timeWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.Reset(buffer);
        writer.WriteStringValue(time);
        writer.Flush();

        var span = buffer.WrittenSpan;
        return Encoding.UTF8.GetString(span[1..^1]);
    }

    public string Hash() => Hashing.Sha256Hex(CanonicalBytes());
}

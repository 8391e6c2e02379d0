using System.Diagnostics.CodeAnalysis;
using CleanRoom.Shared;

namespace CleanRoom.KeyRelease.Internal;

/// <summary>Shared strict JSON reader settings for every wire format of this library.</summary>
internal static class KeyReleaseJson
{
    /// <summary>No comments, no trailing commas, no duplicate property names, bounded depth.</summary>
    public static readonly JsonDocumentOptions Strict = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
        AllowDuplicateProperties = false,
    };

    public static bool TryParse(string? json, [NotNullWhen(true)] out JsonDocument? document)
    {
        document = null;
        if (string.IsNullOrEmpty(json))
        {
            return false;
        }

        try
        {
            document = JsonDocument.Parse(json, Strict);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }

        return KeepIfWellFormed(ref document);
    }

    public static bool TryParse(ReadOnlyMemory<byte> utf8, [NotNullWhen(true)] out JsonDocument? document)
    {
        document = null;
        try
        {
            document = JsonDocument.Parse(utf8, Strict);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }

        return KeepIfWellFormed(ref document);
    }

    /// <summary>True when every string and property name is valid UTF-16 text (see <see cref="JsonText.IsWellFormed"/>).</summary>
    public static bool IsWellFormedText(JsonElement element) => JsonText.IsWellFormed(element);

    private static bool KeepIfWellFormed([NotNullWhen(true)] ref JsonDocument? document)
    {
        if (IsWellFormedText(document!.RootElement))
        {
            return true;
        }

        document.Dispose();
        document = null;
        return false;
    }

    public static string? GetString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String
            ? p.GetString()
            : null;
}

// Compiled into CleanRoom.Attestation and CleanRoom.KeyRelease (linked source: neither library references the other or
// CleanRoom.Core), so both refuse the same JSON the same way.
using System.Text.Json;

namespace CleanRoom.Shared;

internal static class JsonText
{
    /// <summary>
    /// True when every string and property name under <paramref name="element"/> is valid UTF-16 text. JSON escapes can spell a
    /// lone surrogate ("\ud800"): the reader accepts it, but every later GetString or property name throws
    /// InvalidOperationException, so such a document is refused where it is read, like any other malformed JSON.
    /// </summary>
    public static bool IsWellFormed(JsonElement element)
    {
        try
        {
            Check(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Check(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Check(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Check(item);
                }

                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}

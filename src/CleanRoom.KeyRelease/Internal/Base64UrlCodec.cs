using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.KeyRelease.Internal;

/// <summary>RFC 4648 section 5 base64url without padding, with a non-throwing decode for untrusted input.</summary>
internal static class Base64UrlCodec
{
    public static string Encode(ReadOnlySpan<byte> data) => Base64Url.EncodeToString(data);

    public static bool TryDecode(string? text, [NotNullWhen(true)] out byte[]? data)
    {
        data = null;
        if (text is null || text.Contains('=', StringComparison.Ordinal) || !Base64Url.IsValid(text))
        {
            return false;
        }

        try
        {
            data = Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

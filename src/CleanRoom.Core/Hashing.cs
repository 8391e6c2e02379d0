using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CleanRoom.Core;

/// <summary>SHA-256 helpers and the textual encodings used in every CleanRoom format.</summary>
public static class Hashing
{
    public static byte[] Sha256(ReadOnlySpan<byte> data) => SHA256.HashData(data);

    public static byte[] Sha256(string utf8) => SHA256.HashData(Encoding.UTF8.GetBytes(utf8));

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Sha256Hex(string utf8) => Sha256Hex(Encoding.UTF8.GetBytes(utf8));

    public static string B64Url(ReadOnlySpan<byte> data) => Base64Url.EncodeToString(data);

    public static byte[] FromB64Url(string text) => Base64Url.DecodeFromChars(text);

    public static bool TryFromB64Url(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
        {
            return false;
        }

        try
        {
            bytes = Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool FixedTimeEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CryptographicOperations.FixedTimeEquals(a, b);
}

using System.Text.RegularExpressions;

namespace CleanRoom.Core;

/// <summary>The public half of a party's keys, as listed in contracts.</summary>
public sealed partial record PartyIdentity(string Name, string SigningKey, string EncryptionKey)
{
    public string KeyId => PartyKeys.KeyId(SigningKey);

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static void ValidateName(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("party and object names are 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter", nameof(name));
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$")]
    private static partial Regex NamePattern();
}

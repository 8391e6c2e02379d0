// Party identities: an Ed25519 signing key (RFC 8032) and an X25519 key-agreement key
// (RFC 7748), both from NSec/libsodium. Private keys are written with file mode 0600 and
// never leave the party's machine.
using System.Security.Cryptography;
using System.Text.Json;
using NSec.Cryptography;

namespace CleanRoom.Core;

public sealed class PartyKeys : IDisposable
{
    private PartyKeys(string name, Key signing, Key encryption)
    {
        Name = name;
        SigningKey = signing;
        EncryptionKey = encryption;
    }

    public string Name { get; }

    public Key SigningKey { get; }

    public Key EncryptionKey { get; }

    public PartyIdentity Identity => new(
        Name,
        Hashing.B64Url(SigningKey.PublicKey.Export(KeyBlobFormat.RawPublicKey)),
        Hashing.B64Url(EncryptionKey.PublicKey.Export(KeyBlobFormat.RawPublicKey)));

    public string Id => KeyId(SigningKey.PublicKey);

    public static PartyKeys Create(string name)
    {
        PartyIdentity.ValidateName(name);
        return new PartyKeys(
            name,
            Key.Create(SignatureAlgorithm.Ed25519, Exportable),
            Key.Create(KeyAgreementAlgorithm.X25519, Exportable));
    }

    /// <summary>Key identifier: base64url SHA-256 of the raw Ed25519 public key.</summary>
    public static string KeyId(PublicKey signingPublicKey) =>
        Hashing.B64Url(Hashing.Sha256(signingPublicKey.Export(KeyBlobFormat.RawPublicKey)));

    public static string KeyId(string signingPublicKeyB64Url) =>
        Hashing.B64Url(Hashing.Sha256(Hashing.FromB64Url(signingPublicKeyB64Url)));

    public static bool TryImportSigningPublicKey(string? b64url, out PublicKey? key)
    {
        key = null;
        return IsCanonicalKey(b64url, out var raw)
            && PublicKey.TryImport(SignatureAlgorithm.Ed25519, raw, KeyBlobFormat.RawPublicKey, out key);
    }

    /// <summary>
    /// Imports a party's X25519 key, refusing a low-order point: every DH with it is all zero, which
    /// RFC 9180 §7.1.4 makes the sender refuse, so no result could ever be sealed to it.
    /// </summary>
    public static bool TryImportEncryptionPublicKey(string? b64url, out PublicKey? key)
    {
        key = null;
        if (!IsCanonicalKey(b64url, out var raw)
            || !PublicKey.TryImport(KeyAgreementAlgorithm.X25519, raw, KeyBlobFormat.RawPublicKey, out var imported))
        {
            return false;
        }

        // A clamped scalar is a multiple of the cofactor 8, so the product with a low-order point is the
        // identity, whose all-zero output libsodium refuses (null).
        using var probe = Key.Create(KeyAgreementAlgorithm.X25519);
        using var shared = KeyAgreementAlgorithm.X25519.Agree(probe, imported!);
        if (shared is null)
        {
            return false;
        }

        key = imported;
        return true;
    }

    /// <summary>
    /// 32 bytes in unpadded base64url, spelled exactly as <see cref="Hashing.B64Url"/> writes them: the decoder also takes
    /// padding and whitespace, and a key listed under two spellings would pass as two parties' keys.
    /// </summary>
    private static bool IsCanonicalKey(string? b64url, out byte[] raw) =>
        Hashing.TryFromB64Url(b64url, out raw) && raw.Length == 32 && string.Equals(Hashing.B64Url(raw), b64url, StringComparison.Ordinal);

    /// <summary>Writes {dir}/{name}.keys.json (private, 0600) and {dir}/{name}.identity.json (public).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var file = new PartyKeyFile(
            Name,
            Hashing.B64Url(SigningKey.Export(KeyBlobFormat.RawPrivateKey)),
            Hashing.B64Url(EncryptionKey.Export(KeyBlobFormat.RawPrivateKey)));
        var privatePath = Path.Combine(directory, Name + ".keys.json");
        SecureFile.WriteAllBytes(privatePath, JsonSerializer.SerializeToUtf8Bytes(file, CanonicalJson.SerializerOptions));
        File.WriteAllBytes(Path.Combine(directory, Name + ".identity.json"), JsonSerializer.SerializeToUtf8Bytes(Identity, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }));
    }

    public static PartyKeys Load(string directory, string name)
    {
        var path = Path.Combine(directory, name + ".keys.json");
        SecureFile.EnsurePrivate(path);
        var bytes = File.ReadAllBytes(path);
        PartyKeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<PartyKeyFile>(bytes, CanonicalJson.SerializerOptions);
        }
        catch (JsonException)
        {
            // Not the parser's message: it can quote the file's text, which is private key material.
            file = null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }

        if (file is null)
        {
            throw new InvalidDataException($"refusing key file {path}: it is empty or not a JSON key file (corrupted or truncated?)");
        }

        if (file.Name != name)
        {
            // A copied or renamed file would otherwise sign and decrypt as another party than the one asked for.
            throw new InvalidDataException(PartyIdentity.IsValidName(file.Name)
                ? $"refusing key file {path}: it holds the keys of party '{file.Name}', not '{name}'"
                : $"refusing key file {path}: it does not hold the keys of party '{name}' (its name is missing or invalid)");
        }

        var signing = ImportPrivate(SignatureAlgorithm.Ed25519, file.SigningPrivateKey)
            ?? throw new InvalidDataException($"refusing key file {path}: its signingPrivateKey is not a base64url 32-byte Ed25519 private key (corrupted or truncated?)");
        var encryption = ImportPrivate(KeyAgreementAlgorithm.X25519, file.EncryptionPrivateKey);
        if (encryption is null)
        {
            signing.Dispose();
            throw new InvalidDataException($"refusing key file {path}: its encryptionPrivateKey is not a base64url 32-byte X25519 private key (corrupted or truncated?)");
        }

        return new PartyKeys(file.Name, signing, encryption);
    }

    private static Key? ImportPrivate(Algorithm algorithm, string? b64url)
    {
        if (!Hashing.TryFromB64Url(b64url, out var raw))
        {
            return null;
        }

        try
        {
            var creation = Exportable;
            return raw.Length == 32 && Key.TryImport(algorithm, raw, KeyBlobFormat.RawPrivateKey, out var key, in creation) ? key : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    private static KeyCreationParameters Exportable => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    public void Dispose()
    {
        SigningKey.Dispose();
        EncryptionKey.Dispose();
    }

    private sealed record PartyKeyFile(string Name, string SigningPrivateKey, string EncryptionPrivateKey);
}

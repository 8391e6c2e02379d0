using CleanRoom.Core;
using NSec.Cryptography;

namespace CleanRoom.Server;

/// <summary>The server's Ed25519 key that signs audit checkpoints; kept in the data directory with mode 0600.</summary>
public sealed class ServerIdentity : IDisposable
{
    private ServerIdentity(Key key)
    {
        SigningKey = key;
        PublicKey = Hashing.B64Url(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public Key SigningKey { get; }

    public string PublicKey { get; }

    public static ServerIdentity LoadOrCreate(string directory)
    {
        var path = Path.Combine(directory, "server-signing.key");
        var parameters = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        if (File.Exists(path))
        {
            SecureFile.EnsurePrivate(path);
            try
            {
                return new ServerIdentity(Key.Import(SignatureAlgorithm.Ed25519, File.ReadAllBytes(path), KeyBlobFormat.RawPrivateKey, parameters));
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{path} does not hold an Ed25519 private key (32 raw bytes); the server's audit signing key is damaged");
            }
        }

        var key = Key.Create(SignatureAlgorithm.Ed25519, parameters);
        SecureFile.WriteAllBytes(path, key.Export(KeyBlobFormat.RawPrivateKey));
        return new ServerIdentity(key);
    }

    public void Dispose() => SigningKey.Dispose();
}

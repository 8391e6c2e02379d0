using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.KeyRelease;
using Microsoft.Data.Sqlite;

namespace CleanRoom.Server;

/// <summary>
/// The local key broker: a software stand-in for Azure Key Vault / Managed HSM with the same
/// Secure Key Release wire format. Dataset key-encryption keys (RSA-3072) are exportable only
/// under an immutable release policy, and are released only inside a key_hsm envelope wrapped to
/// the attested enclave's runtime RSA key.
/// </summary>
public sealed class KeyBroker : IDisposable
{
    /// <summary>
    /// Release responses are consumed at once (they are authentication, not secrecy): RSA-2048 as Key Vault's own signing
    /// uses. The keys that keep data secret — the KEKs and the enclave's wrapping key — stay RSA-3072.
    /// </summary>
    public const int SigningKeySizeBits = 2048;

    private readonly Database _db;
    private readonly ServerPolicies _policies;
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, string Version), (byte[] Modulus, byte[] Exponent)> _publicKeys = new();

    public KeyBroker(Database db, ServerPolicies policies, ServerOptions options, TimeProvider time)
    {
        _db = db;
        _policies = policies;
        _time = time;
        var path = Path.Combine(options.DataDirectory, "broker-signing.pem");
        SigningKey = RSA.Create();
        if (File.Exists(path))
        {
            SecureFile.EnsurePrivate(path);
            try
            {
                SigningKey.ImportFromPem(File.ReadAllText(path));
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                throw new InvalidDataException($"{path} does not hold an RSA private key in PEM; the broker's signing key is damaged");
            }
            if (SigningKey.KeySize < SigningKeySizeBits)
            {
                throw new InvalidOperationException($"{path} holds an RSA key shorter than {SigningKeySizeBits} bits; refusing to sign release responses with it");
            }
        }
        else
        {
            SigningKey.KeySize = SigningKeySizeBits;
            SecureFile.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes(SigningKey.ExportPkcs8PrivateKeyPem()));
        }

        SigningKeyId = "broker-" + Hashing.Sha256Hex(SigningKey.ExportSubjectPublicKeyInfo())[..16];
    }

    public RSA SigningKey { get; }

    public string SigningKeyId { get; }

    public string SigningPublicKeyPem => SigningKey.ExportSubjectPublicKeyInfoPem();

    public DatasetKeyView CreateKey(SqliteConnection c, SqliteTransaction tx, string name, string policyName)
    {
        var policyJson = _policies.ReadReleasePolicy(policyName);
        var parsed = ReleasePolicy.Parse(policyJson);
        if (!parsed.IsSuccess)
        {
            throw ApiException.BadRequest("policy.malformed", $"key creation refused: release policy '{policyName}' cannot be parsed ({parsed.Reason})");
        }

        using var rsa = RSA.Create(3072);
        var version = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var publicPem = rsa.ExportSubjectPublicKeyInfoPem();
        Database.Exec(c, "INSERT INTO broker_keys (name, version, private_pkcs8, public_pem, release_policy, immutable, exportable, created_at) VALUES ($n, $v, $k, $p, $r, 1, 1, $t);", tx,
            ("$n", name), ("$v", version), ("$k", RsaTargetKey.Export(rsa)), ("$p", publicPem), ("$r", policyJson), ("$t", Store.Now(_time)));
        return new DatasetKeyView(name, version, publicPem, policyJson);
    }

    public DatasetKeyView Describe(SqliteConnection c, SqliteTransaction? tx, string name, string version)
    {
        using var cmd = Database.Command(c, "SELECT public_pem, release_policy FROM broker_keys WHERE name = $n AND version = $v;", tx, ("$n", name), ("$v", version));
        using var r = cmd.ExecuteReader();
        return r.Read() ? new DatasetKeyView(name, version, r.GetString(0), r.GetString(1)) : throw ApiException.NotFound("key.not_found", $"key '{name}' does not exist");
    }

    /// <summary>
    /// First half of a release: reads the key, parses its release policy, evaluates it against the token's claims and picks the
    /// wrapping key. Nothing leaves the broker. The caller records the decision durably, then calls
    /// <see cref="BrokerAuthorization.Seal"/> (the two can overlap, see AttestationEndpoints).
    /// </summary>
    public BrokerAuthorization Authorize(string name, string version, JsonElement claims)
    {
        byte[] pkcs8;
        string policyJson;
        bool exportable;
        bool immutable;
        string publicPem;
        using (var c = _db.Open())
        using (var cmd = Database.Command(c, "SELECT private_pkcs8, release_policy, exportable, immutable, public_pem FROM broker_keys WHERE name = $n AND version = $v;", null, ("$n", name), ("$v", version)))
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read())
            {
                return BrokerAuthorization.Fail("key.not_found", $"key release refused: key '{name}' version '{version}' does not exist");
            }

            pkcs8 = (byte[])r.GetValue(0);
            policyJson = r.GetString(1);
            exportable = r.GetInt64(2) == 1;
            immutable = r.GetInt64(3) == 1;
            publicPem = r.GetString(4);
        }

        RuntimeKeySelection? wrapping = null;
        try
        {
            if (!exportable)
            {
                return BrokerAuthorization.Fail(KeyReleaseErrorCodes.KeyNotExportable, $"key release refused: key '{name}' is not exportable");
            }

            var policy = ReleasePolicy.Parse(policyJson);
            if (!policy.IsSuccess)
            {
                return BrokerAuthorization.Fail(policy.ErrorCode!, $"key release refused: the release policy of key '{name}' cannot be parsed");
            }

            var decision = policy.Policy!.Evaluate(claims);
            if (!decision.IsAllowed)
            {
                return BrokerAuthorization.Fail(decision.ErrorCode!, $"key release refused for '{name}': {decision.Reason}");
            }

            wrapping = RuntimeKeySelector.Select(claims);
            if (!wrapping.IsSuccess)
            {
                return BrokerAuthorization.Fail(wrapping.ErrorCode!, $"key release refused for '{name}': {wrapping.Reason}");
            }

            var authorized = new BrokerAuthorization(this, name, version, pkcs8, wrapping, PublicParameters(name, version, publicPem), policyJson, immutable);
            wrapping = null;
            pkcs8 = [];
            return authorized;
        }
        finally
        {
            wrapping?.Dispose();
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>
    /// The released key's public half, from its stored public key: importing the private key only to read its modulus costs
    /// as much as an RSA signature, and parsing the PEM each time a third of one. Keys never change once created.
    /// </summary>
    private (byte[] Modulus, byte[] Exponent) PublicParameters(string name, string version, string publicPem) =>
        _publicKeys.GetOrAdd((name, version), _ =>
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(publicPem);
            var p = rsa.ExportParameters(false);
            return (p.Modulus!, p.Exponent!);
        });

    internal string Sign(KeyReleaseResponse response) => response.Sign(SigningKey, SigningKeyId);

    public void Dispose() => SigningKey.Dispose();
}

/// <summary>
/// A release the policy allowed, holding the key until <see cref="Seal"/> wraps it to the enclave's runtime key and signs the
/// response, or <see cref="Dispose"/> wipes it. Fails closed: a refused authorization carries only the code and reason.
/// </summary>
public sealed class BrokerAuthorization : IDisposable
{
    private readonly KeyBroker? _broker;
    private readonly byte[] _pkcs8 = [];
    private readonly RuntimeKeySelection? _wrapping;
    private readonly (byte[] Modulus, byte[] Exponent) _public;
    private readonly string _policyJson = "";
    private readonly bool _immutable;

    internal BrokerAuthorization(KeyBroker broker, string name, string version, byte[] pkcs8, RuntimeKeySelection wrapping, (byte[] Modulus, byte[] Exponent) publicKey, string policyJson, bool immutable)
    {
        _broker = broker;
        Name = name;
        Version = version;
        _pkcs8 = pkcs8;
        _wrapping = wrapping;
        _public = publicKey;
        _policyJson = policyJson;
        _immutable = immutable;
    }

    private BrokerAuthorization(string code, string reason)
    {
        ErrorCode = code;
        Reason = reason;
    }

    public bool IsAllowed => _broker is not null;

    public string? ErrorCode { get; }

    public string? Reason { get; }

    public string Name { get; } = "";

    public string Version { get; } = "";

    internal static BrokerAuthorization Fail(string code, string reason) => new(code, reason);

    /// <summary>The Key Vault release response: the key in a key_hsm envelope to the enclave's runtime key, signed by the broker (JWS).</summary>
    public string Seal(string? nonce, KeyWrapAlgorithm enc)
    {
        if (_broker is null)
        {
            throw new InvalidOperationException("A refused release cannot be sealed.");
        }

        var response = new KeyReleaseResponse
        {
            Kid = $"/keys/{Name}/{Version}",
            KeyHsm = KeyHsmEnvelope.Create(_pkcs8, _wrapping!.Key!, _wrapping.Kid ?? "enclave", enc),
            Enc = enc,
            Nonce = nonce,
            KeyOps = ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            Modulus = _public.Modulus,
            Exponent = _public.Exponent,
            Exportable = true,
            ReleasePolicyJson = _policyJson,
            ReleasePolicyImmutable = _immutable,
        };
        return _broker.Sign(response);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_pkcs8);
        _wrapping?.Dispose();
    }
}

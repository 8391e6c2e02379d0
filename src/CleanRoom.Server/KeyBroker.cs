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
            SigningKey.ImportFromPem(File.ReadAllText(path));
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

    /// <summary>Evaluates the key's release policy over already-validated token claims and builds the signed release response.</summary>
    public BrokerRelease Release(string name, string version, JsonElement claims, string? nonce, KeyWrapAlgorithm enc)
    {
        byte[] pkcs8;
        string publicPem;
        string policyJson;
        bool exportable;
        bool immutable;
        using (var c = _db.Open())
        using (var cmd = Database.Command(c, "SELECT private_pkcs8, release_policy, exportable, immutable, public_pem FROM broker_keys WHERE name = $n AND version = $v;", null, ("$n", name), ("$v", version)))
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read())
            {
                return BrokerRelease.Fail("key.not_found", $"key release refused: key '{name}' version '{version}' does not exist");
            }

            pkcs8 = (byte[])r.GetValue(0);
            policyJson = r.GetString(1);
            exportable = r.GetInt64(2) == 1;
            immutable = r.GetInt64(3) == 1;
            publicPem = r.GetString(4);
        }

        try
        {
            if (!exportable)
            {
                return BrokerRelease.Fail(KeyReleaseErrorCodes.KeyNotExportable, $"key release refused: key '{name}' is not exportable");
            }

            var policy = ReleasePolicy.Parse(policyJson);
            if (!policy.IsSuccess)
            {
                return BrokerRelease.Fail(policy.ErrorCode!, $"key release refused: the release policy of key '{name}' cannot be parsed");
            }

            var decision = policy.Policy!.Evaluate(claims);
            if (!decision.IsAllowed)
            {
                return BrokerRelease.Fail(decision.ErrorCode!, $"key release refused for '{name}': {decision.Reason}");
            }

            using var wrapping = RuntimeKeySelector.Select(claims);
            if (!wrapping.IsSuccess)
            {
                return BrokerRelease.Fail(wrapping.ErrorCode!, $"key release refused for '{name}': {wrapping.Reason}");
            }

            // The public half comes from the stored public key: importing the private key only to read its modulus costs as
            // much as an RSA signature.
            using var rsa = RSA.Create();
            rsa.ImportFromPem(publicPem);
            var p = rsa.ExportParameters(false);
            var kid = $"/keys/{name}/{version}";
            var keyHsm = KeyHsmEnvelope.Create(pkcs8, wrapping.Key!, wrapping.Kid ?? "enclave", enc);
            var response = new KeyReleaseResponse
            {
                Kid = kid,
                KeyHsm = keyHsm,
                Enc = enc,
                Nonce = nonce,
                KeyOps = ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                Modulus = p.Modulus!,
                Exponent = p.Exponent!,
                Exportable = true,
                ReleasePolicyJson = policyJson,
                ReleasePolicyImmutable = immutable,
            };
            return BrokerRelease.Ok(response.Sign(SigningKey, SigningKeyId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    public void Dispose() => SigningKey.Dispose();
}

public sealed record BrokerRelease(string? Jws, string? ErrorCode, string? Reason)
{
    public bool IsSuccess => Jws is not null;

    public static BrokerRelease Ok(string jws) => new(jws, null, null);

    public static BrokerRelease Fail(string code, string reason) => new(null, code, reason);
}

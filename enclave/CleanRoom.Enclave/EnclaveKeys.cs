// Per-boot enclave keys: Ed25519 (RFC 8032) signs results; RSA-3072 receives released keys
// (RSA-OAEP-256 inside the Key Vault key_hsm envelope). Both public keys are published as
// JWKs in the attestation runtime data, whose SHA-256 the SEV-SNP report binds in REPORT_DATA.
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CleanRoom.Core;
using NSec.Cryptography;

namespace CleanRoom.Enclave;

public sealed class EnclaveKeys : IDisposable
{
    public EnclaveKeys()
    {
        SigningKey = Key.Create(SignatureAlgorithm.Ed25519);
        EncryptionKey = RSA.Create(3072);
        var p = EncryptionKey.ExportParameters(false);
        var x = Hashing.B64Url(SigningKey.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        var runtime = new JsonObject
        {
            ["keys"] = new JsonArray(
                new JsonObject
                {
                    ["kty"] = "RSA",
                    ["kid"] = "enclave-encryption",
                    ["key_ops"] = new JsonArray("encrypt"),
                    ["n"] = Hashing.B64Url(p.Modulus),
                    ["e"] = Hashing.B64Url(p.Exponent),
                },
                new JsonObject
                {
                    ["kty"] = "OKP",
                    ["crv"] = "Ed25519",
                    ["kid"] = "enclave-signing",
                    ["key_ops"] = new JsonArray("verify"),
                    ["x"] = x,
                }),
        };
        RuntimeData = CanonicalJson.Canonicalize(runtime);
    }

    /// <summary>Never exportable: lives only in this process's memory.</summary>
    public Key SigningKey { get; }

    public RSA EncryptionKey { get; }

    /// <summary>The canonical runtime JSON sent to the attestation authority.</summary>
    public byte[] RuntimeData { get; }

    /// <summary>REPORT_DATA = SHA-256(runtime data) ‖ 32 zero bytes.</summary>
    public byte[] ReportData()
    {
        var data = new byte[64];
        SHA256.HashData(RuntimeData, data);
        return data;
    }

    public void Dispose()
    {
        SigningKey.Dispose();
        EncryptionKey.Dispose();
    }
}

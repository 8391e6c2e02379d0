using System.Security.Cryptography;

namespace CleanRoom.KeyRelease.Tests;

/// <summary>RSA keys generated once per test run (generation is slow); tests never dispose them.</summary>
internal static class TestKeys
{
    private static readonly Lazy<RSA> LazyEnclave = new(() => RSA.Create(3072));
    private static readonly Lazy<RSA> LazyOther = new(() => RSA.Create(2048));
    private static readonly Lazy<RSA> LazyBroker = new(() => RSA.Create(2048));
    private static readonly Lazy<RSA> LazyKek = new(() => RSA.Create(3072));

    /// <summary>The enclave's runtime wrapping key (private half stays "in the enclave").</summary>
    public static RSA Enclave => LazyEnclave.Value;

    /// <summary>An unrelated key.</summary>
    public static RSA Other => LazyOther.Value;

    /// <summary>The broker's response-signing key.</summary>
    public static RSA Broker => LazyBroker.Value;

    /// <summary>A KEK to be released.</summary>
    public static RSA Kek => LazyKek.Value;

    public static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>MAA-shaped SEV-SNP claims with the enclave key in x-ms-runtime.keys.</summary>
    public static string TokenClaimsJson(string issuer = "https://sharedeus.eus.attest.azure.net", RSA? runtimeKey = null)
    {
        var p = (runtimeKey ?? Enclave).ExportParameters(false);
        return $$"""
        {
          "iss": "{{issuer}}",
          "x-ms-ver": "1.0",
          "x-ms-attestation-type": "sevsnpvm",
          "x-ms-compliance-status": "azure-compliant-cvm",
          "x-ms-sevsnpvm-is-debuggable": false,
          "x-ms-sevsnpvm-guestsvn": 3,
          "x-ms-sevsnpvm-vmpl": 0,
          "x-ms-sevsnpvm-launchmeasurement": "a1b2c3",
          "x-ms-runtime": {
            "client-payload": { "nonce": "abc" },
            "keys": [ { "kid": "TpmEphemeralEncryptionKey", "kty": "RSA", "key_ops": ["encrypt"], "n": "{{B64(p.Modulus!)}}", "e": "{{B64(p.Exponent!)}}" } ]
          }
        }
        """;
    }

    public static JsonElement TokenClaims(string issuer = "https://sharedeus.eus.attest.azure.net") => Parse(TokenClaimsJson(issuer));
}

using System.Text.Json;
using NSec.Cryptography;

namespace CleanRoom.Core;

/// <summary>
/// Reads the enclave's Ed25519 result-signing key out of an attestation token's x-ms-runtime claim.
/// The enclave id is the SHA-256 of the canonical runtime data: one id per enclave boot.
/// </summary>
public sealed record RuntimeKeys
{
    public bool IsValid { get; private init; }

    public string? ErrorCode { get; private init; }

    public string? Reason { get; private init; }

    public string? EnclaveId { get; private init; }

    public PublicKey? SigningKey { get; private init; }

    public static RuntimeKeys Read(JsonElement claims)
    {
        try
        {
            return ReadKeys(claims);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // A string that is not valid UTF-16 (a lone surrogate escape) cannot be read or hashed canonically.
            return new() { ErrorCode = "token.no_runtime_keys", Reason = "the attestation token's runtime keys are not valid JSON text" };
        }
    }

    private static RuntimeKeys ReadKeys(JsonElement claims)
    {
        if (claims.ValueKind != JsonValueKind.Object
            || !claims.TryGetProperty("x-ms-runtime", out var runtime) || runtime.ValueKind != JsonValueKind.Object
            || !runtime.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            return new() { ErrorCode = "token.no_runtime_keys", Reason = "the attestation token carries no runtime keys" };
        }

        foreach (var k in keys.EnumerateArray())
        {
            if (k.ValueKind == JsonValueKind.Object
                && k.TryGetProperty("kty", out var kty) && kty.ValueKind == JsonValueKind.String && kty.GetString() == "OKP"
                && k.TryGetProperty("crv", out var crv) && crv.ValueKind == JsonValueKind.String && crv.GetString() == "Ed25519"
                && k.TryGetProperty("x", out var x) && x.ValueKind == JsonValueKind.String
                && PartyKeys.TryImportSigningPublicKey(x.GetString(), out var key))
            {
                return new() { IsValid = true, EnclaveId = Hashing.Sha256Hex(CanonicalJson.Canonicalize(runtime)), SigningKey = key };
            }
        }

        return new() { ErrorCode = "token.no_signing_key", Reason = "the attestation token's runtime keys include no Ed25519 signing key" };
    }
}

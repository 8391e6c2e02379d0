using System.Text.Json;
using NSec.Cryptography;

namespace CleanRoom.Server;

/// <summary>An enclave authenticated by a valid attestation token. Fails closed: invalid unless built by <see cref="Ok"/>.</summary>
public sealed record EnclaveSession
{
    public bool IsValid { get; private init; }

    public string? ErrorCode { get; private init; }

    public string? Reason { get; private init; }

    /// <summary>SHA-256 (hex) of the token's runtime data: identifies one enclave boot.</summary>
    public string EnclaveId { get; private init; } = string.Empty;

    public string Actor => "enclave:" + EnclaveId[..Math.Min(12, EnclaveId.Length)];

    public PublicKey SigningKey { get; private init; } = null!;

    public JsonElement Claims { get; private init; }

    public static EnclaveSession Fail(string code, string reason) => new() { ErrorCode = code, Reason = reason };

    public static EnclaveSession Ok(string enclaveId, PublicKey signingKey, JsonElement claims) =>
        new() { IsValid = true, EnclaveId = enclaveId, SigningKey = signingKey, Claims = claims };
}

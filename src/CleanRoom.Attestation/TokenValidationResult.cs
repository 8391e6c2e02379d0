using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace CleanRoom.Attestation;

/// <summary>Outcome of <see cref="AttestationTokenValidator.Validate"/>. Fails closed: claims are only exposed for a valid token.</summary>
public sealed class TokenValidationResult
{
    private TokenValidationResult(string? errorCode, string? reason, JsonElement claims, IReadOnlyList<JsonElement> runtimeKeys)
    {
        ErrorCode = errorCode;
        Reason = reason;
        Claims = claims;
        RuntimeKeys = runtimeKeys;
    }

    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsValid => ErrorCode is null;

    public string? ErrorCode { get; }

    public string? Reason { get; }

    /// <summary>The verified claim set (a JSON object); <c>default</c> (Undefined) when invalid.</summary>
    public JsonElement Claims { get; }

    /// <summary>The JWKs in <c>x-ms-runtime.keys</c>, as raw JSON objects; empty when invalid or absent.</summary>
    public IReadOnlyList<JsonElement> RuntimeKeys { get; }

    /// <summary>True when the valid token came from a simulated root (<c>x-cleanroom-simulated: true</c>).</summary>
    public bool IsSimulated => IsValid && Claims.TryGetProperty("x-cleanroom-simulated", out JsonElement s) && s.ValueKind == JsonValueKind.True;

    internal static TokenValidationResult Success(JsonElement claims, IReadOnlyList<JsonElement> runtimeKeys) => new(null, null, claims, runtimeKeys);

    internal static TokenValidationResult Failure(string errorCode, string reason) => new(errorCode, reason, default, []);

    public override string ToString() => IsValid ? "valid attestation token" : $"{ErrorCode}: {Reason}";
}

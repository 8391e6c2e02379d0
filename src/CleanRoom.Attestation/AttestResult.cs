using System.Diagnostics.CodeAnalysis;

namespace CleanRoom.Attestation;

/// <summary>Outcome of <see cref="AttestationAuthority.Attest"/>: a token, or a refusal with a stable code.</summary>
public sealed class AttestResult
{
    private AttestResult(string? token, string? errorCode, string? reason)
    {
        Token = token;
        ErrorCode = errorCode;
        Reason = reason;
    }

    [MemberNotNullWhen(true, nameof(Token))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Reason))]
    public bool IsSuccess => Token is not null;

    /// <summary>The RS256 attestation JWT.</summary>
    public string? Token { get; }

    public string? ErrorCode { get; }

    public string? Reason { get; }

    internal static AttestResult Success(string token) => new(token, null, null);

    internal static AttestResult Failure(string errorCode, string reason) => new(null, errorCode, reason);

    public override string ToString() => IsSuccess ? "attestation token issued" : $"{ErrorCode}: {Reason}";
}

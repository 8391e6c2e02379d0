namespace CleanRoom.Attestation;

/// <summary>What <see cref="AttestationTokenValidator"/> requires of a token. Secure by default: simulated tokens are refused.</summary>
public sealed class TokenValidationOptions
{
    /// <summary>The exact <c>iss</c> the token must carry (the attestation authority pinned by the relying party).</summary>
    public required string ExpectedIssuer { get; init; }

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>When set, the token's <c>nonce</c> claim must equal it.</summary>
    public string? ExpectedNonce { get; init; }

    /// <summary>Accept tokens carrying <c>x-cleanroom-simulated: true</c>. Local mode only.</summary>
    public bool AllowSimulated { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

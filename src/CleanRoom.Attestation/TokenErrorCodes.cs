namespace CleanRoom.Attestation;

/// <summary>Stable error codes of <see cref="AttestationTokenValidator"/>.</summary>
public static class TokenErrorCodes
{
    public const string Malformed = "token.malformed";
    public const string AlgorithmNotAllowed = "token.alg_not_allowed";
    public const string CriticalHeaderUnsupported = "token.crit_unsupported";
    public const string KeyIdMissing = "token.kid_missing";
    public const string KeyIdUnknown = "token.kid_unknown";
    public const string JwksInvalid = "token.jwks_invalid";
    public const string SignatureInvalid = "token.signature_invalid";
    public const string IssuerMismatch = "token.issuer_mismatch";
    public const string Expired = "token.expired";
    public const string NotYetValid = "token.not_yet_valid";
    public const string ClaimsInvalid = "token.claims_invalid";
    public const string NonceMismatch = "token.nonce_mismatch";
    public const string AttestationTypeMismatch = "token.attestation_type_mismatch";
    public const string SimulatedNotAllowed = "token.simulated_not_allowed";
}

namespace CleanRoom.KeyRelease;

/// <summary>
/// Stable error codes of every expected key-release failure. They appear in audit records and API
/// answers; never rename one, only add.
/// </summary>
public static class KeyReleaseErrorCodes
{
    /// <summary>The release policy JSON is not valid under the SKR grammar (parse failure; denies).</summary>
    public const string PolicyMalformed = "policy_malformed";

    /// <summary>The token claims are not a JSON object or lack a usable <c>iss</c>.</summary>
    public const string PolicyClaimsInvalid = "policy_claims_invalid";

    /// <summary>No authority entry of the policy matches the token issuer.</summary>
    public const string PolicyAuthorityMismatch = "policy_authority_mismatch";

    /// <summary>An authority matched but a claim condition was not met.</summary>
    public const string PolicyConditionNotMet = "policy_condition_not_met";

    /// <summary>The key_hsm envelope is not well formed (encoding, schema, header).</summary>
    public const string KeyHsmMalformed = "key_hsm_malformed";

    /// <summary>The key_hsm envelope names a wrap algorithm we do not accept.</summary>
    public const string KeyHsmUnsupportedAlgorithm = "key_hsm_unsupported_algorithm";

    /// <summary>The key_hsm ciphertext did not unwrap under this private key (wrong key or tampered).</summary>
    public const string KeyHsmUnwrapFailed = "key_hsm_unwrap_failed";

    /// <summary>The release response is not a well-formed JWS with the expected payload.</summary>
    public const string ResponseMalformed = "release_response_malformed";

    /// <summary>The release response JWS is not RS256, or its signature does not verify under the signer's key.</summary>
    public const string ResponseSignatureInvalid = "release_response_signature_invalid";

    /// <summary>The release response does not echo the nonce sent in the request.</summary>
    public const string ResponseNonceMismatch = "release_response_nonce_mismatch";

    /// <summary>Chain trust is configured but the JWS header carries no <c>x5c</c> (absent or empty).</summary>
    public const string ResponseCertificateChainMissing = "release_response_x5c_missing";

    /// <summary>The <c>x5c</c> header is not an array of at most 10 standard-base64 DER certificates.</summary>
    public const string ResponseCertificateChainMalformed = "release_response_x5c_malformed";

    /// <summary>The <c>x5c</c> chain does not build to a configured trusted root (unknown root, bad signature, bad CA).</summary>
    public const string ResponseCertificateChainUntrusted = "release_response_x5c_untrusted";

    /// <summary>A certificate of the <c>x5c</c> chain is expired or not yet valid at verification time.</summary>
    public const string ResponseCertificateNotTimeValid = "release_response_x5c_not_time_valid";

    /// <summary>The <c>x5t#S256</c> header is not the SHA-256 thumbprint of the <c>x5c</c> leaf.</summary>
    public const string ResponseCertificateThumbprintMismatch = "release_response_x5t_mismatch";

    /// <summary>The <c>x5c</c> leaf may not sign: its key usage lacks digitalSignature, or its key is not RSA of at least 2048 bits.</summary>
    public const string ResponseCertificateNotForSigning = "release_response_x5c_not_for_signing";

    /// <summary>A signer is pinned and chain trust is configured, and the <c>x5c</c> leaf's key is not the pinned key.</summary>
    public const string ResponseSignerNotPinned = "release_response_signer_not_pinned";

    /// <summary>The configured signer trust is unusable: nothing configured, a pinned key that is not RSA-2048 or larger, or a roots bundle without certificates.</summary>
    public const string SignerTrustInvalid = "release_signer_trust_invalid";

    /// <summary>The release request JSON is not well formed.</summary>
    public const string RequestMalformed = "release_request_malformed";

    /// <summary>The key was not created exportable; it can never be released.</summary>
    public const string KeyNotExportable = "key_not_exportable";

    /// <summary>An exportable key needs a release policy.</summary>
    public const string KeyPolicyRequired = "key_policy_required";

    /// <summary>The key's release policy is immutable and cannot be changed.</summary>
    public const string KeyPolicyImmutable = "key_policy_immutable";

    /// <summary>The stored key record is not well formed.</summary>
    public const string KeyRecordMalformed = "key_record_malformed";

    /// <summary>The token carries no <c>x-ms-runtime.keys</c> array.</summary>
    public const string RuntimeKeysMissing = "runtime_keys_missing";

    /// <summary>No RSA encryption key in <c>x-ms-runtime.keys</c>.</summary>
    public const string RuntimeKeyNotFound = "runtime_key_not_found";

    /// <summary>The selected runtime key is not a usable RSA public key (encoding or size).</summary>
    public const string RuntimeKeyInvalid = "runtime_key_invalid";
}

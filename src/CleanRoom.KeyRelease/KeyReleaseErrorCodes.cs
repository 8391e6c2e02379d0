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

    /// <summary>The release response JWS signature does not verify under the broker key.</summary>
    public const string ResponseSignatureInvalid = "release_response_signature_invalid";

    /// <summary>The release response does not echo the nonce sent in the request.</summary>
    public const string ResponseNonceMismatch = "release_response_nonce_mismatch";

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

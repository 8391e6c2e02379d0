namespace CleanRoom.Attestation;

/// <summary>Error codes of <see cref="AttestationAuthority"/> beyond the SNP and policy codes it passes through.</summary>
public static class AttestErrorCodes
{
    public const string RequestInvalid = "attest.request_invalid";
    public const string RuntimeDataInvalid = "attest.runtime_data_invalid";

    /// <summary>The local authority requires a request nonce so that it can refuse replays.</summary>
    public const string NonceRequired = "attest.nonce_required";

    public const string NonceReplayed = "attest.nonce_replayed";
}

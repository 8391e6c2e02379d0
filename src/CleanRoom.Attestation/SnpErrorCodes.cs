namespace CleanRoom.Attestation;

/// <summary>
/// Stable error codes for SEV-SNP evidence parsing and verification. Callers may match on
/// these strings; the accompanying reasons are for humans and may change.
/// </summary>
public static class SnpErrorCodes
{
    public const string ReportWrongLength = "snp.report_wrong_length";
    public const string UnsupportedVersion = "snp.unsupported_version";
    public const string UnsupportedSignatureAlgorithm = "snp.unsupported_signature_algorithm";
    public const string ReservedNonZero = "snp.reserved_nonzero";
    public const string PolicyReservedBitClear = "snp.policy_reserved_bit_clear";
    public const string FieldOutOfRange = "snp.field_out_of_range";
    public const string UnknownProduct = "snp.unknown_product";
    public const string TcbReservedNonZero = "snp.tcb_reserved_nonzero";

    public const string CertificateChainMalformed = "snp.cert_chain_malformed";
    public const string CertificateAlgorithmInvalid = "snp.cert_algorithm_invalid";
    public const string CertificateSignatureInvalid = "snp.cert_signature_invalid";
    public const string CertificateExpired = "snp.cert_expired";
    public const string RootNotTrusted = "snp.root_not_trusted";
    public const string VcekKeyInvalid = "snp.vcek_key_invalid";
    public const string VcekExtensionInvalid = "snp.vcek_extension_invalid";
    public const string ReportSignatureInvalid = "snp.report_signature_invalid";
    public const string UnsupportedSigningKey = "snp.unsupported_signing_key";
    public const string ProductMismatch = "snp.product_mismatch";
    public const string TcbMismatch = "snp.tcb_mismatch";
    public const string ChipIdMismatch = "snp.chip_id_mismatch";
}

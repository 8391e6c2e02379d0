namespace CleanRoom.Attestation;

/// <summary>Stable error codes for attestation-policy parsing and evaluation.</summary>
public static class AttestationPolicyErrorCodes
{
    public const string Malformed = "policy.malformed";
    public const string EvidenceInvalid = "policy.evidence_invalid";
    public const string RootOfTrustMismatch = "policy.root_of_trust_mismatch";
    public const string UndefinedPolicyBits = "policy.undefined_guest_policy_bits";
    public const string DebugNotAllowed = "policy.debug_not_allowed";
    public const string MigrationNotAllowed = "policy.migration_not_allowed";
    public const string MeasurementNotAllowed = "policy.measurement_not_allowed";
    public const string HostDataMismatch = "policy.host_data_mismatch";
    public const string TcbLayoutUnknown = "policy.tcb_layout_unknown";
    public const string TcbTooLow = "policy.tcb_too_low";
    public const string VmplMismatch = "policy.vmpl_mismatch";
    public const string GuestSvnTooLow = "policy.guest_svn_too_low";
    public const string ReportDataMismatch = "policy.report_data_mismatch";
}

namespace CleanRoom.Privacy;

/// <summary>Stable error codes of privacy-specification refusals (the SQL's own refusals are <see cref="SqlErrorCodes"/>).</summary>
public static class PrivacyErrorCodes
{
    /// <summary>The SQL uses something the DP pipeline cannot bound (MIN/MAX, COUNT(column), arithmetic around an aggregate…).</summary>
    public const string DpUnsupported = "privacy.dp_unsupported";

    /// <summary>The privacy specification itself is malformed or inconsistent with the SQL (bounds, public groups, ε, δ).</summary>
    public const string BadSpec = "privacy.bad_spec";

    /// <summary>A DP computation reads a dataset whose declaration has no (ε, δ) budget.</summary>
    public const string NoBudget = "privacy.no_budget";
}

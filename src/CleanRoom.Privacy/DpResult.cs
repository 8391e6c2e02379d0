namespace CleanRoom.Privacy;

/// <summary>
/// The released groups (sorted by key, ordinal) and the privacy cost the run consumed. <see cref="SelectionThreshold"/> is
/// the public partition-selection threshold in units (null with public group keys).
/// </summary>
public sealed record DpResult(IReadOnlyList<DpGroupResult> Groups, PrivacyCost Cost, long? SelectionThreshold);

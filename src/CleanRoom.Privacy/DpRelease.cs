namespace CleanRoom.Privacy;

/// <summary>
/// The released output of a DP run: rows in the analyst's column order, sorted by group values, and the privacy cost the run
/// consumed. <see cref="SelectionThreshold"/> is the public partition-selection threshold (null with public groups).
/// </summary>
public sealed record DpRelease(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, PrivacyCost Cost, long? SelectionThreshold);

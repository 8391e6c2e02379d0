namespace CleanRoom.Privacy;

/// <summary>
/// The approved DP parameters of a computation. <paramref name="MaxGroupsContributed"/> is L0, the number of groups one
/// unit may influence. With <paramref name="PublicGroupKeys"/> the output has exactly those groups (no partition selection,
/// δ unused); otherwise groups are released only when their noisy unit count clears the selection threshold.
/// </summary>
public sealed record DpOptions(decimal Epsilon, decimal Delta, int MaxGroupsContributed, IReadOnlyList<string>? PublicGroupKeys = null);

namespace CleanRoom.Privacy;

/// <summary>Rows that met the threshold, without the hidden unit-count columns, and how many groups were suppressed.</summary>
public sealed record ThresholdFilterResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, int SuppressedGroups);

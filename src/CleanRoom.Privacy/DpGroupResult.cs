namespace CleanRoom.Privacy;

/// <summary>A released group and its noisy values, one per <see cref="DpAggregateSpec"/>, in order.</summary>
public sealed record DpGroupResult(string GroupKey, IReadOnlyList<decimal> Values);

namespace CleanRoom.Privacy.Internal;

/// <summary>One output column of a DP plan: a GROUP BY value (index into the group values) or an aggregate (index into the specs).</summary>
internal readonly record struct DpOutput(bool IsGroup, int Index);

namespace CleanRoom.Privacy;

/// <summary>
/// A validated parameter value, typed for binding as a prepared-statement parameter (<c>$Name</c>): <see cref="Value"/> is a
/// string, long, double, decimal, DateOnly or bool. It is never spliced into SQL text.
/// </summary>
public sealed record BoundParameter(string Name, string Type, object Value);

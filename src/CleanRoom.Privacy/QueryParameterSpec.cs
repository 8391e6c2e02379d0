namespace CleanRoom.Privacy;

/// <summary>
/// A declared <c>$name</c> parameter. <paramref name="Type"/> is VARCHAR, BIGINT, INTEGER, DOUBLE, DECIMAL, DATE or BOOLEAN.
/// Every parameter needs a closed domain: <paramref name="AllowedValues"/>, or both <paramref name="Min"/> and <paramref name="Max"/>
/// for ordered types (BOOLEAN's domain is implicit). A free-text parameter would let an analyst single out a person by value.
/// </summary>
public sealed record QueryParameterSpec(string Name, string Type, IReadOnlyList<string>? AllowedValues, string? Min, string? Max);

namespace CleanRoom.KeyRelease.Internal;

/// <summary>
/// <c>{"claim": "a.b.c", "&lt;operator&gt;": value}</c>. The claim is a dot path through nested
/// JSON objects of the token (no array indexing); a missing claim or a non-object on the way is
/// "not met" for every operator, including <c>notEquals</c>.
/// </summary>
internal sealed class ClaimCondition(string claim, IReadOnlyList<string> path, PolicyOperator op, string operatorName, PolicyValue value)
    : PolicyCondition
{
    public override bool Evaluate(JsonElement claims, out UnmetCondition unmet)
    {
        unmet = new UnmetCondition(claim, operatorName);
        if (!TryResolve(claims, out var element))
        {
            return false;
        }

        switch (op)
        {
            case PolicyOperator.Exists:
                return true;
            case PolicyOperator.EqualTo:
                return value.TryEquals(element, out var equal) && equal;
            case PolicyOperator.NotEqualTo:
                return value.TryEquals(element, out var same) && !same;
            default:
                if (!value.TryCompare(element, out var c))
                {
                    return false;
                }

                return op switch
                {
                    PolicyOperator.Less => c < 0,
                    PolicyOperator.LessOrEquals => c <= 0,
                    PolicyOperator.Greater => c > 0,
                    PolicyOperator.GreaterOrEquals => c >= 0,
                    _ => false,
                };
        }
    }

    private bool TryResolve(JsonElement claims, out JsonElement element)
    {
        element = claims;
        foreach (var segment in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
            {
                return false;
            }
        }

        return element.ValueKind != JsonValueKind.Null && element.ValueKind != JsonValueKind.Undefined;
    }
}

namespace CleanRoom.KeyRelease.Internal;

/// <summary><c>allOf</c> (every child met) or <c>anyOf</c> (at least one child met); never empty.</summary>
internal sealed class ConditionGroup(bool requireAll, IReadOnlyList<PolicyCondition> children) : PolicyCondition
{
    public override bool Evaluate(JsonElement claims, out UnmetCondition unmet)
    {
        UnmetCondition? firstUnmet = null;
        foreach (var child in children)
        {
            var met = child.Evaluate(claims, out var childUnmet);
            if (requireAll && !met)
            {
                unmet = childUnmet;
                return false;
            }

            if (!requireAll && met)
            {
                unmet = default;
                return true;
            }

            firstUnmet ??= childUnmet;
        }

        unmet = firstUnmet ?? default;
        return requireAll;
    }
}

namespace CleanRoom.KeyRelease.Internal;

/// <summary>A node of a parsed release policy: a claim condition or an allOf/anyOf group.</summary>
internal abstract class PolicyCondition
{
    /// <summary>True when met; otherwise <paramref name="unmet"/> names the first unmet leaf condition.</summary>
    public abstract bool Evaluate(JsonElement claims, out UnmetCondition unmet);
}

namespace CleanRoom.KeyRelease.Internal;

/// <summary>The first condition that was not met: the policy's claim path and operator name, never a token value.</summary>
internal readonly record struct UnmetCondition(string Claim, string Operator);

namespace CleanRoom.Attestation.Internal;

/// <summary>Internal control flow of the policy parser; never escapes <see cref="MaaPolicy.Parse"/>.</summary>
internal sealed class MaaPolicySyntaxException(string message) : Exception(message);

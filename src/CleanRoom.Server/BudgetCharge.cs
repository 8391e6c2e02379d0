using CleanRoom.Privacy;

namespace CleanRoom.Server;

/// <summary>One charge made to one dataset: its cost and what is left of the dataset's budget afterwards.</summary>
public sealed record BudgetCharge(string Dataset, PrivacyCost Cost, PrivacyCost Remaining);

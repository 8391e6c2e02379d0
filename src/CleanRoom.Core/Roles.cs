namespace CleanRoom.Core;

/// <summary>The roles a party can hold in a contract.</summary>
public static class Roles
{
    public const string ContractManager = "contract-manager";
    public const string DataProvider = "data-provider";
    public const string Analyst = "analyst";
    public const string ResultRecipient = "result-recipient";
    public const string Auditor = "auditor";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        ContractManager, DataProvider, Analyst, ResultRecipient, Auditor,
    };
}

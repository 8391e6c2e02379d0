using CleanRoom.Core;

namespace CleanRoom.Privacy;

/// <summary>Maps a contract's dataset declarations and a computation's parameters to the analyzer's types.</summary>
public static class ContractCatalog
{
    public static SqlCatalog From(ContractDocument contract) => new(
        contract.Datasets.Select(d => new DatasetSchema(
            d.Name,
            d.Columns.Select(c => new ColumnSchema(c.Name, c.Type)).ToList(),
            d.PrivacyUnit,
            d.JoinColumns)).ToList());

    public static IReadOnlyList<QueryParameterSpec> Parameters(ComputationDocument computation) =>
        computation.Parameters.Select(p => new QueryParameterSpec(p.Name, p.Type, p.AllowedValues, p.Min, p.Max)).ToList();
}

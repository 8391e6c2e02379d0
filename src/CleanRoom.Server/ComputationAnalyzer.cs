using CleanRoom.Core;
using CleanRoom.Privacy;

namespace CleanRoom.Server;

/// <summary>
/// Runs the privacy engine's SQL analysis when a computation is proposed. DuckDB's parser is
/// single-threaded per connection, so one analyzer is shared behind a lock.
/// </summary>
public sealed class ComputationAnalyzer : IDisposable
{
    private readonly Lock _lock = new();
    private readonly SqlAnalyzer _analyzer = new();

    /// <summary>Checks the privacy specification against the contract; null when acceptable, else (code, reason).</summary>
    public static (string Code, string Reason)? CheckPrivacy(ContractDocument contract, ComputationDocument computation)
    {
        if (computation.Privacy.Mode != "aggregate")
        {
            return ("privacy.unsupported_mode", $"privacy mode '{computation.Privacy.Mode}' is not supported (use 'aggregate')");
        }

        if (computation.Privacy.MinDistinctUnits < contract.MinimumK)
        {
            return ("privacy.k_too_small", $"k = {computation.Privacy.MinDistinctUnits} is below the contract's minimum of {contract.MinimumK}");
        }

        return null;
    }

    public SqlAnalysis Analyze(ContractDocument contract, ComputationDocument computation)
    {
        lock (_lock)
        {
            return _analyzer.Analyze(computation.Sql, ContractCatalog.From(contract), ContractCatalog.Parameters(computation));
        }
    }

    /// <summary>Returns null when the values fit the declared types and domains, else a one-line reason.</summary>
    public string? ValidateParameters(ComputationDocument computation, IReadOnlyDictionary<string, string> values)
    {
        var result = ParameterBinder.Validate(values, ContractCatalog.Parameters(computation));
        return result.IsValid ? null : result.Reason;
    }

    public void Dispose() => _analyzer.Dispose();
}

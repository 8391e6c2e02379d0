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
        var privacy = computation.Privacy;
        switch (privacy.Mode)
        {
            case PrivacySpec.AggregateMode:
                if (privacy.Dp is not null)
                {
                    return ("privacy.bad_spec", "an aggregate-mode computation cannot carry a DP specification");
                }

                if (privacy.MinDistinctUnits < contract.MinimumK)
                {
                    return ("privacy.k_too_small", $"k = {privacy.MinDistinctUnits} is below the contract's minimum of {contract.MinimumK}");
                }

                return null;
            case PrivacySpec.DpMode:
                return CheckDp(privacy.Dp);
            default:
                return ("privacy.unsupported_mode", $"privacy mode '{privacy.Mode}' is not supported (use 'aggregate' or 'dp')");
        }
    }

    private static (string Code, string Reason)? CheckDp(DpSpec? dp)
    {
        if (dp is null)
        {
            return ("privacy.bad_spec", "a dp-mode computation needs a DP specification");
        }

        if (dp.Epsilon <= 0 || dp.Delta < 0 || dp.Delta >= 1)
        {
            return ("privacy.bad_spec", "the DP specification needs ε > 0 and 0 ≤ δ < 1");
        }

        if (dp.PublicGroups is null && dp.Delta == 0)
        {
            return ("privacy.bad_spec", "private partition selection needs δ > 0 (or declare public groups)");
        }

        if (dp.MaxGroupsContributed < 1)
        {
            return ("privacy.bad_spec", "max_groups_contributed must be at least 1");
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

    /// <summary>
    /// Plans a dp-mode computation whose SQL was allowed: refuses what the DP pipeline cannot bound, bounds that do not match
    /// the outputs, and datasets without a budget. The plan's summary tells approvers ε, δ, L0, the bounds and the selection.
    /// </summary>
    public DpPlan PlanDp(ContractDocument contract, ComputationDocument computation, SqlAnalysis analysis)
    {
        lock (_lock)
        {
            return DpRewriter.Plan(contract, computation, analysis, _analyzer);
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

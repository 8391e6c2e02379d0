using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave;

/// <summary>
/// The dp-mode branch of a job: re-plans the computation inside the enclave (never trusting the server's check at proposal),
/// runs the per-unit SQL in the locked-down sandbox and releases it through the DP pipeline with the cryptographic RNG.
/// </summary>
public static class DpExecution
{
    /// <summary>The DP plan of a dp-mode computation, or null in any other mode; refuses (JobRefusalException) a plan the rules refuse.</summary>
    public static DpPlan? PlanOrNull(ContractDocument contract, ComputationDocument computation, SqlAnalysis analysis, SqlAnalyzer analyzer)
    {
        if (computation.Privacy.Mode != PrivacySpec.DpMode)
        {
            return null;
        }

        var plan = DpRewriter.Plan(contract, computation, analysis, analyzer);
        return plan.IsAllowed ? plan : throw new JobRefusalException(plan.ErrorCode!, "job refused: " + plan.Reason);
    }

    /// <summary>
    /// Locks the sandbox down and runs the DP pipeline (ranks and noise from the OS CSPRNG): with private partition selection,
    /// DuckDB caps, clamps and sums (<see cref="DpPlan.TotalsSql"/>, or <see cref="DpPlan.UnitIndexedTotalsSql"/> where the unit
    /// column's range allows) and only the per-group totals come back for noise and
    /// selection; with public groups, the per-unit rows stream through the C# pipeline, never all held at once.
    /// </summary>
    public static DpRelease Execute(SqlSandbox sandbox, DpPlan plan, IReadOnlyList<BoundParameter> parameters)
    {
        if (plan.TotalsSql is not null)
        {
            sandbox.EnableDpRandom();
        }

        sandbox.LockDown();
        try
        {
            if (plan.TotalsSql is not { } totals)
            {
                return plan.Release(sandbox.QueryRows(plan.PerUnitSql, parameters), CryptoRandomSource.Instance);
            }

            // Integer units in a range small enough: the cap indexed by unit value, the same totals for less work.
            if (plan.UnitIndexedTotalsSql is { } indexed && sandbox.IndexDpUnits(plan.UnitRangeSql!, plan.Options.MaxGroupsContributed))
            {
                totals = indexed;
            }

            return plan.ReleaseTotals(sandbox.Query(totals, parameters).Rows, CryptoRandomSource.Instance);
        }
        catch (DuckDB.NET.Data.DuckDBException)
        {
            throw new JobRefusalException("sql.execution_failed", "job failed: the approved SQL failed to execute inside the enclave", isPolicyRefusal: false);
        }
    }

    /// <summary>The job's output table and the privacy outcome for the signed result: ε and δ charged are the approved ones.</summary>
    internal static (IReadOnlyList<string> Columns, List<IReadOnlyList<JsonElement>> Rows, PrivacyOutcome Privacy) Run(
        SqlSandbox sandbox, DpPlan plan, IReadOnlyList<BoundParameter> parameters, DpSpec spec)
    {
        var release = Execute(sandbox, plan, parameters);
        var rows = release.Rows.Select(r => (IReadOnlyList<JsonElement>)r.Select(JobRunner.ToJson).ToList()).ToList();
        // No count of unreleased groups: how many groups had any unit is itself not differentially private.
        return (release.Columns, rows, new PrivacyOutcome(PrivacySpec.DpMode, 0, 0, spec.Epsilon, spec.Delta));
    }
}

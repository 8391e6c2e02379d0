using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Privacy;

namespace CleanRoom.Enclave;

/// <summary>
/// The dp-mode branch of a job: re-plans the computation inside the enclave (never trusting the server's check at proposal),
/// runs the plan's SQL in the locked-down sandbox and releases it through the DP pipeline with the cryptographic RNG.
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
    /// Locks the sandbox down and releases the DP result (noise from the OS CSPRNG). The plan picks the path: its fast path
    /// (<see cref="DpPlan.TotalsSql"/>: clamping, gridding and the sums of units within L0 groups in SQL, only the units in
    /// more groups streamed for the random cap) when it has one and the group keys are unambiguous; otherwise the streaming
    /// path, every per-unit row through the C# pipeline (grids the fast path does not cover).
    /// </summary>
    public static DpRelease Execute(SqlSandbox sandbox, DpPlan plan, IReadOnlyList<BoundParameter> parameters)
    {
        sandbox.LockDown();
        try
        {
            if (plan.TotalsSql is { } totalsSql
                && plan.TryReleaseTotals(sandbox.QueryRecords(totalsSql, parameters), CryptoRandomSource.Instance, out var release))
            {
                return release;
            }

            // Streamed: the per-unit rows are aggregated as they arrive, never all held at once.
            return plan.Release(sandbox.QueryRows(plan.PerUnitSql, parameters), CryptoRandomSource.Instance);
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

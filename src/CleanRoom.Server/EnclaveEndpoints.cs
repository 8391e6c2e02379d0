using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Server;

/// <summary>
/// The enclave's side of the job queue. Every call carries the enclave's attestation token as a
/// bearer token; the consent lock (approved computation, active contract, published data) is
/// checked here again at key release, whatever was true when the job was queued.
/// </summary>
public static class EnclaveEndpoints
{
    /// <summary>Failure-report outcome for a job the enclave stopped in flight because the server said it no longer runs.</summary>
    public const string JobCancelledOutcome = "cancelled";

    private const string SessionItem = "cleanroom.enclave-session";

    public static void Map(WebApplication app)
    {
        var jobs = app.MapGroup("/api/enclave/jobs").AddEndpointFilter(AuditJobRefusalsAsync);
        jobs.MapPost("/claim", Claim);
        jobs.MapPost("/{id}/dataset-keys", DatasetKeys);
        jobs.MapGet("/{id}/datasets/{name}/ciphertext", Ciphertext);
        jobs.MapPost("/{id}/result", SubmitResult);
        jobs.MapPost("/{id}/failure", ReportFailure);
        jobs.MapPost("/{id}/heartbeat", Heartbeat);
    }

    /// <summary>
    /// An attested enclave's call about a job that is not its own, not running, or unknown (<c>job.not_claimed</c>,
    /// <c>job.not_running</c>, <c>*.not_found</c>: the 403s and 404s below) is written to the audit log under the enclave's
    /// name before it is answered, as <c>enclave.refused</c>: an enclave still at work on a job that was requeued, or one
    /// asking for what it was never given, leaves a trace. The other refusals are audited where they are made.
    /// </summary>
    private static async ValueTask<object?> AuditJobRefusalsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ApiException ex) when (ex.Status is 403 or 404 && context.HttpContext.Items[SessionItem] is EnclaveSession session)
        {
            var id = context.HttpContext.Request.RouteValues["id"] as string;
            var audit = context.HttpContext.RequestServices.GetRequiredService<AuditLog>();
            await audit.AppendAsync(session.Actor, "enclave.refused", id is null ? "queue" : "job/" + id, "refused", ex.Code, ex.Message);
            throw;
        }
    }

    private static async Task<EnclaveSession> AuthenticateAsync(HttpContext http, LocalAttestation attestation, AuditLog audit, string target)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : string.Empty;
        var session = attestation.ValidateEnclaveToken(token);
        if (!session.IsValid)
        {
            var reason = "enclave request refused: " + session.Reason;
            await audit.AppendAsync("anonymous", "enclave.refused", target, "refused", session.ErrorCode, reason);
            throw ApiException.Unauthorized(session.ErrorCode!, reason);
        }

        http.Items[SessionItem] = session;
        return session;
    }

    private static async Task<IResult> Claim(HttpContext http, Database db, LocalAttestation attestation, AuditLog audit, JobLeases leases)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "queue");
        var (ticket, reaped) = await db.WriteAsync((c, tx) =>
        {
            // Expired leases first, in the same transaction: a job interrupted by a crash is requeued
            // (or failed after its last attempt) before the queue is read.
            var reaped = leases.ReapExpired(c, tx, audit);
            var id = leases.Claim(c, tx, session.EnclaveId);
            if (id is null)
            {
                return ((EnclaveJobTicket?)null, reaped);
            }

            var job = Store.FindJob(c, tx, id)!;
            var contract = Store.FindContract(c, tx, job.ContractId)!;
            var computation = Store.FindComputation(c, tx, job.ComputationId)!;
            var datasets = Store.Datasets(c, tx, job.ContractId).Where(d => computation.Tables.Contains(d.Name) && d.State == "published")
                .Select(d => new EnclaveDatasetTicket(d.Name, d.KeyName!, d.KeyVersion!, d.CiphertextSha256!, d.CiphertextLength!.Value)).ToList();
            var started = audit.Append(c, tx, session.Actor, "job.started", "job/" + id);
            return (new EnclaveJobTicket(id, contract.Document, Store.ContractSignatures(c, tx, contract.Document.Id), computation.Document, computation.RequiredApprovers, Store.Votes(c, tx, computation.Document.Id), job.Parameters, datasets, started.Seq, Store.RunRequest(c, tx, id)), reaped);
        });
        leases.Notify(reaped);
        return ticket is null ? Results.NoContent() : Results.Ok(ticket);
    }

    /// <summary>
    /// Renews the lease of a running job and long-polls: answers as soon as the job leaves the running
    /// state (consent revoked, contract terminated, lease reaped) or after a third of the lease. This is
    /// how a cancellation reaches the enclave in flight: one loopback round trip after the commit.
    /// </summary>
    private static async Task<IResult> Heartbeat(string id, HttpContext http, Database db, LocalAttestation attestation, AuditLog audit, JobLeases leases)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "job/" + id);

        // Registered before the state is read, so a change committed in between still wakes this call.
        var changed = leases.Changed(id);
        try
        {
            var job = await db.WriteAsync((c, tx) =>
            {
                var row = RequireOwnJob(c, tx, id, session);
                if (row.State == "running")
                {
                    leases.Renew(c, tx, id, session.EnclaveId);
                }

                return row;
            });
            // ?wait=false answers at once: the enclave's own check just before it releases a result.
            if (job.State == "running" && !string.Equals(http.Request.Query["wait"], "false", StringComparison.Ordinal))
            {
                try
                {
                    await changed.WaitAsync(leases.PollWait, http.RequestAborted);
                }
                catch (TimeoutException)
                {
                    // Nothing changed: answer "running" so that the enclave renews again.
                }
                catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
                {
                    return Results.Empty;
                }

                using var c = db.Open();
                job = RequireOwnJob(c, null, id, session);
            }

            return Results.Ok(new JobHeartbeat(id, job.State, job.ReasonCode, job.Reason, (int)leases.Duration.TotalMilliseconds));
        }
        finally
        {
            leases.Forget(id, changed);
        }
    }

    private static JobRow RequireOwnJob(Microsoft.Data.Sqlite.SqliteConnection c, Microsoft.Data.Sqlite.SqliteTransaction? tx, string id, EnclaveSession session)
    {
        var job = Store.FindJob(c, tx, id) ?? throw ApiException.NotFound("job.not_found", $"job '{id}' does not exist");
        if (job.ClaimedBy != session.EnclaveId)
        {
            throw ApiException.Forbidden("job.not_claimed", $"job '{id}' is not held by this enclave (it was requeued after its lease expired, or claimed by another)");
        }

        return job;
    }

    private static async Task<IResult> DatasetKeys(string id, HttpContext http, Database db, LocalAttestation attestation, AuditLog audit, TimeProvider time, ILoggerFactory loggers)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "job/" + id);

        // Refusals first, from committed state: a refusal releases nothing, so it is answered at once
        // (this is how fast a revocation stops a key release) and its audit entry follows through the
        // writer queue, ahead of any later write. A release is decided only inside the write transaction.
        using (var c = db.Open())
        {
            var job = RequireOwnJob(c, null, id, session);
            if (KeyReleaseRefusal(c, null, job, time) is { } early)
            {
                _ = db.WriteAsync((w, tx) => RecordRefusal(w, tx, id, early, audit, time))
                    .ContinueWith(t => loggers.CreateLogger(typeof(EnclaveEndpoints)).LogError(t.Exception, "auditing a key release refusal failed"), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw ApiException.Conflict(early.Code, early.Reason);
            }
        }

        var (keys, refusal) = await db.WriteAsync<(DatasetKeysResponse?, ApiException?)>((c, tx) =>
        {
            var job = RequireOwnJob(c, tx, id, session);
            if (KeyReleaseRefusal(c, tx, job, time) is { } refused)
            {
                RecordRefusal(c, tx, id, refused, audit, time);
                return (null, ApiException.Conflict(refused.Code, refused.Reason));
            }

            var computation = Store.FindComputation(c, tx, job.ComputationId)!;
            var datasets = Store.Datasets(c, tx, job.ContractId).Where(d => computation.Tables.Contains(d.Name)).ToList();
            var response = new DatasetKeysResponse(datasets.Select(d => new WrappedDatasetKey(d.Name, d.KeyName!, d.WrappedKey!)).ToList());
            audit.Append(c, tx, session.Actor, "job.keys_released", "job/" + id);
            return (response, null);
        });
        return refusal is not null ? throw refusal : Results.Ok(keys);
    }

    /// <summary>The consent lock: why the wrapped data keys of this job may not be released now, or null.</summary>
    private static (string Code, string Reason)? KeyReleaseRefusal(Microsoft.Data.Sqlite.SqliteConnection c, Microsoft.Data.Sqlite.SqliteTransaction? tx, JobRow job, TimeProvider time)
    {
        if (job.State != "running")
        {
            return ("job.not_running", $"key release refused: job '{job.Id}' is {job.State}" + (job.Reason is null ? string.Empty : $" ({job.Reason})"));
        }

        var contract = Store.FindContract(c, tx, job.ContractId)!;
        var computation = Store.FindComputation(c, tx, job.ComputationId)!;
        var contractState = GovernanceEndpoints.EffectiveState(contract, time);
        if (contractState != "active")
        {
            return ("contract.not_active", $"key release refused: contract '{contract.Document.Id}' is {contractState}");
        }

        if (computation.State != "approved")
        {
            return ("computation.not_approved", $"key release refused: computation '{computation.Document.Id}' is {computation.State}");
        }

        if (ConsentStore.Blocking(c, tx, contract.Document.Id, computation.Document.Id, computation.Tables) is { } revoked)
        {
            return ("consent.revoked", "key release refused: " + revoked);
        }

        // Every dp job is created with its charges, so this never fires unless that invariant broke: fail closed.
        return computation.Document.Privacy.Mode != PrivacySpec.AggregateMode && BudgetLedger.Unpaid(c, tx, contract.Document.Id, job.Id, computation.Tables) is { } unpaid
            ? ("budget.not_charged", $"key release refused: job '{job.Id}' has no privacy budget charge for dataset '{unpaid}'")
            : null;
    }

    private static int RecordRefusal(Microsoft.Data.Sqlite.SqliteConnection c, Microsoft.Data.Sqlite.SqliteTransaction tx, string id, (string Code, string Reason) refusal, AuditLog audit, TimeProvider time)
    {
        // A job still running is refused for good; a job already cancelled keeps its state and reason
        // (the revocation or termination that ended it).
        Database.Exec(c, "UPDATE jobs SET state = 'refused', reason_code = $c, reason = $r, lease_expires_at = NULL, updated_at = $t WHERE id = $id AND state = 'running';", tx,
            ("$c", refusal.Code), ("$r", refusal.Reason), ("$t", Store.Now(time)), ("$id", id));
        audit.Append(c, tx, "server", "job.refused", "job/" + id, "refused", refusal.Code, refusal.Reason);
        return 0;
    }

    private static async Task<IResult> Ciphertext(string id, string name, HttpContext http, Database db, LocalAttestation attestation, AuditLog audit)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "job/" + id);
        using var c = db.Open();
        var job = RequireOwnJob(c, null, id, session);
        var dataset = Store.Datasets(c, null, job.ContractId).FirstOrDefault(d => d.Name == name && d.State == "published")
            ?? throw ApiException.NotFound("dataset.not_found", $"dataset '{name}' is not published");
        var computation = Store.FindComputation(c, null, job.ComputationId)!;
        if (job.State != "running" || !computation.Tables.Contains(name))
        {
            throw ApiException.Forbidden("job.not_running", $"ciphertext refused: job '{id}' is {job.State} or does not read '{name}'");
        }

        return Results.File(dataset.BlobPath!, "application/octet-stream", enableRangeProcessing: false);
    }

    private static async Task<IResult> SubmitResult(string id, HttpContext http, Database db, LocalAttestation attestation, AuditLog audit, TimeProvider time)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "job/" + id);
        var body = await GovernanceEndpoints.ReadBodyAsync(http, 64 * 1024 * 1024);
        var submission = await GovernanceEndpoints.ParseBodyAsync<ResultSubmission>(body, "result", audit, session.Actor, "job.finished", "job/" + id);
        var check = Jws.Verify(submission.ResultJws, session.SigningKey, StatementTypes.Result);
        var record = check.IsValid ? check.Jws!.PayloadAs<ResultRecord>() : null;
        var refusal = await db.WriteAsync<ApiException?>((c, tx) =>
        {
            var job = RequireOwnJob(c, tx, id, session);
            if (job.State == "finished" && job.ResultJws == submission.ResultJws)
            {
                // A retry after a lost response (e.g. the server restarted after committing): already done.
                return null;
            }

            string? code = null, reason = null;
            if (record is null || record.JobId != id)
            {
                (code, reason) = ("result.bad_signature", "result refused: " + (check.Reason ?? "it names another job"));
            }
            else if (job.State != "running")
            {
                (code, reason) = ("result.withheld", $"result withheld: job '{id}' is {job.State}");
            }
            else
            {
                var contract = Store.FindContract(c, tx, job.ContractId)!;
                var computation = Store.FindComputation(c, tx, job.ComputationId)!;
                var state = GovernanceEndpoints.EffectiveState(contract, time);
                if (state != "active" || computation.State != "approved")
                {
                    (code, reason) = ("result.withheld", $"result withheld: consent no longer holds (contract {state}, computation {computation.State})");
                }
                else if (ConsentStore.Blocking(c, tx, contract.Document.Id, computation.Document.Id, computation.Tables) is { } revoked)
                {
                    (code, reason) = ("result.withheld", "result withheld: " + revoked);
                }
            }

            if (code is not null)
            {
                audit.Append(c, tx, session.Actor, "job.result_withheld", "job/" + id, "refused", code, reason);
                if (job.State == "running")
                {
                    Database.Exec(c, "UPDATE jobs SET state = 'failed', reason_code = $c, reason = $r, updated_at = $t WHERE id = $id;", tx, ("$c", code), ("$r", reason), ("$t", Store.Now(time)), ("$id", id));
                }

                return ApiException.Conflict(code, reason!);
            }

            var entry = audit.Append(c, tx, session.Actor, "job.finished", "job/" + id);
            Database.Exec(c, "UPDATE jobs SET state = 'finished', result_jws = $j, audit_index = $a, lease_expires_at = NULL, updated_at = $t WHERE id = $id;", tx,
                ("$j", submission.ResultJws), ("$a", entry.Seq), ("$t", Store.Now(time)), ("$id", id));
            return null;
        });
        return refusal is not null ? throw refusal : Results.Ok(new { id, state = "finished" });
    }

    private static async Task<IResult> ReportFailure(string id, HttpContext http, Database db, LocalAttestation attestation, AuditLog audit, TimeProvider time, JobLeases leases)
    {
        var session = await AuthenticateAsync(http, attestation, audit, "job/" + id);
        var body = await GovernanceEndpoints.ReadBodyAsync(http);
        var failure = await GovernanceEndpoints.ParseBodyAsync<JobFailureReport>(body, "failure report", audit, session.Actor, "job.failed", "job/" + id);
        var outcome = failure.Outcome switch
        {
            "refused" => "refused",
            JobCancelledOutcome => JobCancelledOutcome,
            _ => "failed",
        };
        var state = await db.WriteAsync((c, tx) =>
        {
            var job = RequireOwnJob(c, tx, id, session);
            var code = Truncate(failure.Code, 64);
            var reason = Truncate(failure.Reason, 300);
            if (outcome == JobCancelledOutcome)
            {
                // The enclave stopped the job in flight and released nothing. If the server still counts
                // the job as running (the enclave lost its lease), end the lease so that it is requeued.
                if (job.State == "running")
                {
                    leases.Release(c, tx, id);
                }

                audit.Append(c, tx, session.Actor, "job.interrupted", "job/" + id, "refused", job.State == "running" ? code : job.ReasonCode ?? code, reason);
                return job.State;
            }

            if (job.State == "running")
            {
                Database.Exec(c, "UPDATE jobs SET state = $s, reason_code = $c, reason = $r, lease_expires_at = NULL, updated_at = $t WHERE id = $id;", tx,
                    ("$s", outcome), ("$c", code), ("$r", reason), ("$t", Store.Now(time)), ("$id", id));
                audit.Append(c, tx, session.Actor, "job." + outcome, "job/" + id, outcome, code, reason);
                return outcome;
            }

            return job.State;
        });
        return Results.Ok(new { id, state });
    }

    private static string Truncate(string? s, int max) => s is null ? string.Empty : s.Length <= max ? s.ReplaceLineEndings(" ") : s[..max].ReplaceLineEndings(" ");
}

using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Privacy;

namespace CleanRoom.Server;

/// <summary>Run requests, job status, results and the audit log, for the parties.</summary>
public static class JobEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/computations/{id}/jobs", Run);
        app.MapGet("/api/jobs/{id}", GetJob);
        app.MapGet("/api/jobs/{id}/result", GetResult);
        app.MapGet("/api/contracts/{id}/audit", ExportAudit);
        app.MapGet("/api/contracts/{id}/audit/checkpoint", GetCheckpoint);
        app.MapGet("/api/contracts/{id}/audit/inclusion", GetInclusionProof);
        app.MapGet("/api/contracts/{id}/audit/consistency", GetConsistencyProof);
        app.MapGet("/api/server", (ServerIdentity identity, LocalAttestation attestation) =>
            Results.Ok(new ServerInfo("1", identity.PublicKey, attestation.Issuer, attestation.IsSimulated)));
    }

    private static async Task<IResult> Run(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, ComputationAnalyzer analyzer)
    {
        var body = await GovernanceEndpoints.ReadBodyAsync(http);
        var view = store.ComputationView(id);
        var contract = store.FindContract(view.Computation.ContractId)!;
        var target = "computation/" + id;
        var (party, verified) = await auth.AuthenticateSignedAsync(http, Hashing.Sha256Hex(body), contract.Document, target, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.Analyst, "running a computation", target, http.RequestAborted);

        async Task<ApiException> Refuse(int status, string code, string reason)
        {
            await audit.AppendAsync(party.Name, "job.queued", target, "refused", code, reason);
            return new ApiException(status, code, reason);
        }

        // The enclave checks the signed request itself (RunRequestVerifier), so it must be one the enclave can check: the
        // exact path of this computation, and a body read the strict way the enclave reads it.
        if (!string.Equals(verified.PathAndQuery, RunRequestVerifier.PathFor(id), StringComparison.Ordinal))
        {
            throw await Refuse(400, "job.bad_request", $"run refused: a run request must be signed for exactly {RunRequestVerifier.PathFor(id)}, with no query");
        }

        if (!RunRequestVerifier.TryParseBody(body, out var runBody))
        {
            throw await Refuse(400, "request.malformed", "run request refused: the body is not a JSON object of a \"computationHash\" (64 lowercase hex digits) and a \"parameters\" object of string values, each named once");
        }

        var requestedParameters = runBody.Parameters;

        var signedRequest = new SignedRunRequest(verified.KeyId, verified.PathAndQuery, verified.Timestamp, verified.Nonce, verified.Signature, Hashing.B64Url(body));

        var contractState = GovernanceEndpoints.EffectiveState(contract, time);
        if (contractState != "active")
        {
            throw await Refuse(409, "contract.not_active", $"run refused: contract '{contract.Document.Id}' is {contractState}, not active");
        }

        if (!string.Equals(runBody.ComputationHash, view.Hash, StringComparison.Ordinal))
        {
            throw await Refuse(409, "job.wrong_computation", $"run refused: the request was signed for another computation than '{id}' (its hash is not {view.Hash})");
        }

        if (view.State != "approved")
        {
            var missing = view.RequiredApprovers.Except(view.Votes.Select(v => v.Party)).ToList();
            throw await Refuse(409, "computation.not_approved", $"run refused: computation '{id}' is {view.State}" + (missing.Count > 0 ? $"; awaiting approval from {string.Join(", ", missing)}" : string.Empty));
        }

        var parameterCheck = analyzer.ValidateParameters(view.Computation, requestedParameters);
        if (parameterCheck is not null)
        {
            throw await Refuse(400, "job.bad_parameters", "run refused: " + parameterCheck);
        }

        using (var check = db.Open())
        {
            if (ConsentStore.Blocking(check, null, contract.Document.Id, id, view.Tables) is { } revoked)
            {
                throw await Refuse(409, "consent.revoked", "run refused: " + revoked);
            }
        }

        // Derived from the request (key id and nonce), so the enclave can tell that one signed request runs as one job.
        var jobId = RunRequestVerifier.JobId(signedRequest.KeyId, signedRequest.Nonce);
        var refusal = await db.WriteAsync<ApiException?>((c, tx) =>
        {
            // A refusal found here is audited in this transaction and returned (not thrown), so that its entry commits.
            ApiException Refused(string code, string reason)
            {
                audit.Append(c, tx, party.Name, "job.queued", target, "refused", code, reason);
                return ApiException.Conflict(code, reason);
            }

            if (Store.FindJob(c, tx, jobId) is not null)
            {
                return Refused("auth.replayed_request", $"run refused: job '{jobId}' of this request already exists (replay)");
            }

            // Checked again inside the transaction: a termination or a veto that committed since the checks above wins.
            var stateNow = GovernanceEndpoints.EffectiveState(Store.FindContract(c, tx, contract.Document.Id)!, time);
            if (stateNow != "active")
            {
                return Refused("contract.not_active", $"run refused: contract '{contract.Document.Id}' is {stateNow}, not active");
            }

            var computationNow = Store.FindComputation(c, tx, id)!;
            if (computationNow.State != "approved")
            {
                return Refused("computation.not_approved", $"run refused: computation '{id}' is {computationNow.State}");
            }

            var datasets = Store.Datasets(c, tx, contract.Document.Id).Where(d => view.Tables.Contains(d.Name)).ToList();
            var unpublished = datasets.Where(d => d.State != "published").Select(d => d.Name).ToList();
            if (unpublished.Count > 0)
            {
                return Refused("dataset.not_published", $"run refused: dataset(s) {string.Join(", ", unpublished)} not yet published");
            }

            // Checked again inside the transaction: a revocation that raced the request wins.
            if (ConsentStore.Blocking(c, tx, contract.Document.Id, id, view.Tables) is { } revokedNow)
            {
                return Refused("consent.revoked", "run refused: " + revokedNow);
            }

            // A dp run pays before it exists: its charges and its job commit together on the single writer, so
            // concurrent runs cannot overspend, and a refused run leaves no job and no charge (only its audit entry).
            // The datasets charged are the ones the server's own analysis found the SQL reads.
            BudgetChargeResult? budget = null;
            if (view.Computation.Privacy.Mode != PrivacySpec.AggregateMode)
            {
                budget = view.Computation.Privacy.Dp is { } dp
                    ? BudgetLedger.Plan(c, tx, contract.Document, view.Tables, new PrivacyCost(dp.Epsilon, dp.Delta))
                    : BudgetChargeResult.Refuse("privacy.bad_spec", $"run refused: computation '{id}' is in {view.Computation.Privacy.Mode} mode without a DP specification");
                if (budget.IsRefused)
                {
                    return Refused(budget.Code, budget.Reason);
                }
            }

            var now = Store.Now(time);
            Database.Exec(c, "INSERT INTO jobs (id, contract_id, computation_id, parameters, requested_by, state, created_at, updated_at, run_request) VALUES ($id, $c, $comp, $p, $by, 'queued', $t, $t, $r);", tx,
                ("$id", jobId), ("$c", contract.Document.Id), ("$comp", id), ("$p", Store.Json(requestedParameters)), ("$by", party.Name), ("$t", now), ("$r", Store.Json(signedRequest)));
            audit.Append(c, tx, party.Name, "job.queued", "job/" + jobId);
            if (budget is not null)
            {
                BudgetLedger.Record(c, tx, contract.Document.Id, jobId, budget, now);
                foreach (var charge in budget.Charges)
                {
                    audit.Append(c, tx, "server", "budget.charged", $"budget/{contract.Document.Id}/{charge.Dataset}", "ok", null,
                        $"job '{jobId}' charged ε = {PrivacyBudget.Format(charge.Cost.Epsilon)}, δ = {PrivacyBudget.Format(charge.Cost.Delta)}; remaining ε = {PrivacyBudget.Format(charge.Remaining.Epsilon)}, δ = {PrivacyBudget.Format(charge.Remaining.Delta)}");
                }
            }

            return null;
        });
        if (refusal is not null)
        {
            throw refusal;
        }

        using var conn = db.Open();
        return Results.Created($"/api/jobs/{jobId}", Store.FindJob(conn, null, jobId)!.ToView());
    }

    private static async Task<(JobRow Job, ContractRow Contract, ContractParty Party)> AuthorizeJobReaderAsync(string id, HttpContext http, Database db, Store store, RequestAuthenticator auth)
    {
        JobRow? job;
        using (var c = db.Open())
        {
            job = Store.FindJob(c, null, id);
        }

        if (job is null)
        {
            throw ApiException.NotFound("job.not_found", $"job '{id}' does not exist");
        }

        var contract = store.FindContract(job.ContractId)!;
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), contract.Document, "job/" + id, http.RequestAborted);
        return (job, contract, party);
    }

    private static async Task<IResult> GetJob(string id, HttpContext http, Database db, Store store, RequestAuthenticator auth)
    {
        var (job, _, _) = await AuthorizeJobReaderAsync(id, http, db, store, auth);
        return Results.Ok(job.ToView());
    }

    private static async Task<IResult> GetResult(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, LocalAttestation attestation, TimeProvider time)
    {
        var (job, contract, party) = await AuthorizeJobReaderAsync(id, http, db, store, auth);
        using var c = db.Open();
        var computation = Store.FindComputation(c, null, job.ComputationId)!;
        if (!computation.Document.Recipients.Contains(party.Name))
        {
            var reason = $"result refused: party '{party.Name}' is not a recipient of computation '{computation.Document.Id}'";
            await audit.AppendAsync(party.Name, "result.fetched", "job/" + id, "refused", "auth.not_recipient", reason);
            throw ApiException.Forbidden("auth.not_recipient", reason);
        }

        if (job.State != "finished" || job.ResultJws is null)
        {
            var reason = $"job '{id}' has no result: it is {job.State}" + (job.Reason is null ? string.Empty : $" ({job.Reason})");
            await audit.AppendAsync(party.Name, "result.fetched", "job/" + id, "refused", "job.no_result", reason);
            throw ApiException.Conflict("job.no_result", reason);
        }

        // An expired or terminated contract releases no result, not even one computed before it ended.
        var contractState = GovernanceEndpoints.EffectiveState(contract, time);
        if (contractState != "active")
        {
            var reason = $"result refused: contract '{contract.Document.Id}' is {contractState}, not active";
            await audit.AppendAsync(party.Name, "result.fetched", "job/" + id, "refused", "contract.not_active", reason);
            throw ApiException.Conflict("contract.not_active", reason);
        }

        using var jwks = JsonDocument.Parse(attestation.JwksJson);
        var bundle = new ResultBundle(
            "cleanroom.result-bundle.v1",
            job.ResultJws,
            contract.Document,
            Store.ContractSignatures(c, null, contract.Document.Id),
            computation.Document,
            computation.RequiredApprovers,
            Store.Votes(c, null, computation.Document.Id),
            Store.Datasets(c, null, contract.Document.Id).Where(d => computation.Tables.Contains(d.Name)).Select(d => d.ToView()).ToList(),
            attestation.Issuer,
            jwks.RootElement.Clone(),
            job.AuditIndex,
            job.AuditIndex is { } index ? audit.Receipt(index) : null);
        return Results.Ok(bundle);
    }

    private static async Task<IResult> ExportAudit(string id, HttpContext http, Store store, AuditLog audit, RequestAuthenticator auth)
    {
        await AuthorizeAuditReaderAsync(id, http, store, auth);
        return Results.Ok(audit.Export());
    }

    private static async Task<IResult> GetCheckpoint(string id, HttpContext http, Store store, AuditLog audit, RequestAuthenticator auth)
    {
        await AuthorizeAuditReaderAsync(id, http, store, auth);
        return Results.Ok(audit.CurrentCheckpoint());
    }

    private static async Task<IResult> GetInclusionProof(string id, long index, long? size, HttpContext http, Store store, AuditLog audit, RequestAuthenticator auth)
    {
        await AuthorizeAuditReaderAsync(id, http, store, auth);
        return Results.Ok(audit.InclusionProof(index, size)
            ?? throw ApiException.BadRequest("audit.bad_range", $"no inclusion proof: entry {index} is not in a tree of {size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the current"} size (the log holds {audit.Size} entries)"));
    }

    private static async Task<IResult> GetConsistencyProof(string id, long from, long? to, HttpContext http, Store store, AuditLog audit, RequestAuthenticator auth)
    {
        await AuthorizeAuditReaderAsync(id, http, store, auth);
        return Results.Ok(audit.ConsistencyProof(from, to)
            ?? throw ApiException.BadRequest("audit.bad_range", $"no consistency proof from size {from}: the log holds {audit.Size} entries"));
    }

    private static async Task AuthorizeAuditReaderAsync(string id, HttpContext http, Store store, RequestAuthenticator auth)
    {
        var contract = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), contract.Document, "contract/" + id, http.RequestAborted);
    }
}

using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Server;

/// <summary>Contracts, signatures and computations: the consent side of the service.</summary>
public static class GovernanceEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/contracts", DraftContract);
        app.MapGet("/api/contracts/{id}", GetContract);
        app.MapPost("/api/contracts/{id}/signatures", SignContract);
        app.MapPost("/api/contracts/{id}/terminate", TerminateContract);
        app.MapPost("/api/contracts/{id}/computations", ProposeComputation);
        app.MapGet("/api/computations/{id}", GetComputation);
        app.MapPost("/api/computations/{id}/votes", Vote);
    }

    internal static async Task<byte[]> ReadBodyAsync(HttpContext http, int maxBytes = 4 * 1024 * 1024)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > maxBytes)
            {
                throw ApiException.BadRequest("request.too_large", $"request body refused: larger than {maxBytes} bytes");
            }
        }

        return ms.ToArray();
    }

    /// <summary>Parses a body of the expected shape; a malformed one is refused (request.malformed) and audited as <paramref name="action"/> on <paramref name="target"/>.</summary>
    internal static async Task<T> ParseBodyAsync<T>(byte[] body, string what, AuditLog audit, string actor, string action, string target)
    {
        try
        {
            return ParseBody<T>(body, what);
        }
        catch (ApiException ex)
        {
            await audit.AppendAsync(actor, action, target, "refused", ex.Code, ex.Message);
            throw;
        }
    }

    // A body is read strictly: a null where the type has no null (say "computation": null, "recipients": null) or a
    // missing constructor argument is malformed, not a NullReferenceException later (a 500 that nothing audits).
    private static readonly JsonSerializerOptions s_bodyOptions = new(CanonicalJson.SerializerOptions)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private static T ParseBody<T>(byte[] body, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, s_bodyOptions)
                ?? throw ApiException.BadRequest("request.malformed", $"{what} refused: the body is empty");
        }
        catch (JsonException)
        {
            throw ApiException.BadRequest("request.malformed", $"{what} refused: the body is not valid JSON of the expected shape");
        }
    }

    private static async Task<IResult> DraftContract(HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, ServerPolicies policies)
    {
        var body = await ReadBodyAsync(http);
        var parsed = ContractDocument.Parse(body);
        if (!parsed.IsValid)
        {
            var reason = "contract refused: " + parsed.Error;
            await audit.AppendAsync("anonymous", "contract.drafted", "contract/?", "refused", "contract.malformed", reason);
            throw ApiException.BadRequest("contract.malformed", reason);
        }

        var contract = parsed.Contract!;
        var target = "contract/" + contract.Id;

        // The caller authenticates against the document it sent, which anyone can write, under any name it likes. Under the
        // id of a contract that exists, its entries would land in that contract's trail in a party's name: there the caller
        // authenticates against the existing contract instead (a stranger is refused as no party of it), and the draft is
        // refused as existing, in the caller's real name.
        if (store.FindContract(contract.Id) is { } current)
        {
            var caller = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), current.Document, target, http.RequestAborted);
            var reason = $"contract '{contract.Id}' already exists; a change is a new contract id or version";
            await audit.AppendAsync(caller.Name, "contract.drafted", target, "refused", "contract.exists", reason);
            throw ApiException.Conflict("contract.exists", reason);
        }

        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), contract, target, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.ContractManager, "drafting a contract", target, http.RequestAborted);
        if (!policies.HasReleasePolicy(contract.AttestationPolicy))
        {
            var reason = $"contract refused: attestation policy '{contract.AttestationPolicy}' is not installed on this server";
            await audit.AppendAsync(party.Name, "contract.drafted", target, "refused", "contract.unknown_policy", reason);
            throw ApiException.BadRequest("contract.unknown_policy", reason);
        }

        var exists = await db.WriteAsync<ApiException?>((c, tx) =>
        {
            if (Store.FindContract(c, tx, contract.Id) is { } existing)
            {
                // Created since the check above (a race): audited in this transaction and returned, so that the entry
                // commits, naming the caller as the existing contract knows its key, or by key id, never by a name it chose.
                var reason = $"contract '{contract.Id}' already exists; a change is a new contract id or version";
                var keyId = PartyKeys.KeyId(party.SigningKey);
                var actor = existing.Document.FindPartyByKeyId(keyId)?.Name ?? "key:" + keyId[..Math.Min(12, keyId.Length)];
                audit.Append(c, tx, actor, "contract.drafted", target, "refused", "contract.exists", reason);
                return ApiException.Conflict("contract.exists", reason);
            }

            Database.Exec(c, "INSERT INTO contracts (id, version, document, hash, state, created_at) VALUES ($id, $v, $d, $h, 'proposed', $t);", tx,
                ("$id", contract.Id), ("$v", contract.Version), ("$d", Store.Json(contract)), ("$h", contract.Hash()), ("$t", Store.Now(time)));
            foreach (var d in contract.Datasets)
            {
                Database.Exec(c, "INSERT INTO datasets (contract_id, name, owner, state) VALUES ($c, $n, $o, 'declared');", tx, ("$c", contract.Id), ("$n", d.Name), ("$o", d.Owner));
            }

            audit.Append(c, tx, party.Name, "contract.drafted", target);
            return null;
        });
        if (exists is not null)
        {
            throw exists;
        }

        return Results.Created($"/api/contracts/{contract.Id}", new { id = contract.Id, hash = contract.Hash(), state = "proposed" });
    }

    private static async Task<IResult> GetContract(string id, HttpContext http, Store store, RequestAuthenticator auth)
    {
        var view = store.ContractView(id);
        await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), view.Contract, "contract/" + id, http.RequestAborted);
        return Results.Ok(view);
    }

    private static async Task<IResult> SignContract(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time)
    {
        var body = await ReadBodyAsync(http);
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        var target = "contract/" + id;
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), row.Document, target, http.RequestAborted);
        var request = await ParseBodyAsync<VoteRequest>(body, "contract signature", audit, party.Name, "contract.signed", target);
        var check = Jws.Verify(request.Jws, party.SigningKey, StatementTypes.ContractSignature);
        var statement = check.IsValid ? check.Jws!.PayloadAs<ContractSignatureStatement>() : null;
        string? refusal = !check.IsValid ? "contract signature refused: " + check.Reason
            : statement is null || statement.ContractId != id || statement.Party != party.Name ? "contract signature refused: it names another contract or party"
            : statement.ContractHash != row.Hash ? "contract signature refused: it signs a different version of the contract (hash mismatch)"
            : null;
        if (refusal is not null)
        {
            await audit.AppendAsync(party.Name, "contract.signed", target, "refused", "contract.bad_signature", refusal);
            throw ApiException.BadRequest("contract.bad_signature", refusal);
        }

        var (state, notProposed) = await db.WriteAsync<(string State, ApiException? NotProposed)>((c, tx) =>
        {
            // Only a proposed contract is signed. Once it is active (or terminated, or expired) a signature changes nothing,
            // and replacing one would let the audit log say "signed" of a contract that ended; the same signature sent
            // again (a retry after a lost answer) is answered with the state, and writes nothing.
            var current = Store.FindContract(c, tx, id)!;
            if (current.State != "proposed")
            {
                if (Store.ContractSignatures(c, tx, id).Any(s => s.Party == party.Name && s.Jws == request.Jws))
                {
                    return (EffectiveState(current, time), null);
                }

                var reason = $"contract signature refused: contract '{id}' is {EffectiveState(current, time)}; only a proposed contract is signed";
                audit.Append(c, tx, party.Name, "contract.signed", target, "refused", "contract.not_proposed", reason);
                return (current.State, ApiException.Conflict("contract.not_proposed", reason));
            }

            Database.Exec(c, "INSERT INTO contract_signatures (contract_id, party, jws) VALUES ($c, $p, $j) ON CONFLICT (contract_id, party) DO UPDATE SET jws = excluded.jws;", tx,
                ("$c", id), ("$p", party.Name), ("$j", request.Jws));
            audit.Append(c, tx, party.Name, "contract.signed", target);
            var signed = Store.ContractSignatures(c, tx, id).Select(s => s.Party).ToHashSet();
            if (row.Document.Parties.All(p => signed.Contains(p.Name)))
            {
                Database.Exec(c, "UPDATE contracts SET state = 'active' WHERE id = $id;", tx, ("$id", id));
                audit.Append(c, tx, "server", "contract.activated", target);
                return ("active", null);
            }

            return ("proposed", null);
        });
        if (notProposed is not null)
        {
            throw notProposed;
        }

        return Results.Ok(new { id, state });
    }

    /// <summary>
    /// A contract manager ends an active contract for good: from the commit on, no computation, vote, run,
    /// key release or result for it; its queued and running jobs are cancelled (their enclaves are woken
    /// through the heartbeat and stop in flight), all in one audited transaction.
    /// </summary>
    private static async Task<IResult> TerminateContract(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, JobLeases leases)
    {
        var body = await ReadBodyAsync(http);
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        var target = "contract/" + id;
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), row.Document, target, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.ContractManager, "terminating a contract", target, http.RequestAborted);
        var request = body.Length == 0 ? new TerminateRequest(null) : await ParseBodyAsync<TerminateRequest>(body, "termination", audit, party.Name, "contract.terminated", target);
        var given = string.IsNullOrWhiteSpace(request.Reason) ? string.Empty : ": " + Truncate(request.Reason, 200);
        var (refusal, cancelled) = await db.WriteAsync((c, tx) =>
        {
            var current = Store.FindContract(c, tx, id)!;
            var state = EffectiveState(current, time);
            if (state != "active")
            {
                var reason = $"termination refused: contract '{id}' is {state}; only an active contract can be terminated";
                audit.Append(c, tx, party.Name, "contract.terminated", target, "refused", "contract.not_active", reason);
                return (ApiException.Conflict("contract.not_active", reason), new List<string>());
            }

            var now = Store.Now(time);
            Database.Exec(c, "UPDATE contracts SET state = 'terminated' WHERE id = $id;", tx, ("$id", id));
            audit.Append(c, tx, party.Name, "contract.terminated", target, "ok", "contract.terminated", $"contract terminated by '{party.Name}'{given}");
            var jobs = new List<string>();
            var jobReason = $"job cancelled: contract '{id}' terminated by '{party.Name}'";
            using (var cmd = Database.Command(c, "UPDATE jobs SET state = 'cancelled', reason_code = 'contract.terminated', reason = $r, lease_expires_at = NULL, updated_at = $t WHERE contract_id = $c AND state IN ('queued', 'running') RETURNING id;", tx,
                ("$r", jobReason), ("$t", now), ("$c", id)))
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    jobs.Add(r.GetString(0));
                }
            }

            foreach (var job in jobs.Order(StringComparer.Ordinal))
            {
                audit.Append(c, tx, "server", "job.cancelled", "job/" + job, "refused", "contract.terminated", jobReason);
            }

            return ((ApiException?)null, jobs);
        });
        if (refusal is not null)
        {
            throw refusal;
        }

        leases.Notify(cancelled);
        return Results.Ok(new ContractTermination(id, "terminated", cancelled));
    }

    private static string Truncate(string s, int max) => (s.Length <= max ? s : s[..max]).ReplaceLineEndings(" ");

    /// <summary>The contract's state as of now: a contract past its validity window is expired whatever the stored state says.</summary>
    internal static string EffectiveState(ContractRow row, TimeProvider time) =>
        row.State == "active" && !row.Document.IsWithinValidity(time.GetUtcNow()) ? "expired" : row.State;

    private static async Task<IResult> ProposeComputation(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, ComputationAnalyzer analyzer)
    {
        var body = await ReadBodyAsync(http);
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), row.Document, "contract/" + id, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.Analyst, "proposing a computation", "contract/" + id, http.RequestAborted);
        var request = await ParseBodyAsync<ProposeComputationRequest>(body, "computation proposal", audit, party.Name, "computation.proposed", "contract/" + id);
        var computation = request.Computation;
        var target = "computation/" + computation.Id;

        async Task<ApiException> Refuse(string code, string reason)
        {
            await audit.AppendAsync(party.Name, "computation.proposed", target, "refused", code, reason);
            return ApiException.BadRequest(code, reason);
        }

        if (EffectiveState(row, time) != "active")
        {
            throw await Refuse("contract.not_active", $"computation refused: contract '{id}' is {EffectiveState(row, time)}, not active");
        }

        // Element nulls are not covered by the body's nullable annotations ("recipients": [null]): malformed as well. A null
        // value inside a public group is not one of them: it names the NULL group key (DpGroupKey encodes it).
        if (computation.Recipients.Any(r => r is null) || computation.Parameters.Any(p => p is null)
            || computation.Privacy.Dp is { } dpSpec && (dpSpec.Bounds.Any(b => b is null) || dpSpec.PublicGroups?.Any(g => g is null) == true))
        {
            throw await Refuse("request.malformed", "computation proposal refused: the body is not valid JSON of the expected shape");
        }

        if (!PartyIdentity.IsValidName(computation.Id) || computation.ContractId != id || computation.ContractHash != row.Hash || computation.ProposedBy != party.Name)
        {
            throw await Refuse("computation.malformed", "computation refused: its id, contract, contract hash or proposer does not match this request");
        }

        if (computation.Recipients.Count == 0 || computation.Recipients.Any(r => row.Document.FindParty(r)?.Has(Roles.ResultRecipient) != true))
        {
            throw await Refuse("computation.bad_recipient", "computation refused: every result recipient must hold the result-recipient role");
        }

        if (ComputationAnalyzer.CheckPrivacy(row.Document, computation) is { } privacyRefusal)
        {
            throw await Refuse(privacyRefusal.Code, "computation refused: " + privacyRefusal.Reason);
        }

        var analysis = analyzer.Analyze(row.Document, computation);
        if (!analysis.IsAllowed)
        {
            throw await Refuse(analysis.ErrorCode!, "computation refused: " + analysis.Reason);
        }

        var summary = analysis.Summary;
        if (computation.Privacy.Mode == PrivacySpec.DpMode)
        {
            var plan = analyzer.PlanDp(row.Document, computation, analysis);
            if (!plan.IsAllowed)
            {
                throw await Refuse(plan.ErrorCode!, "computation refused: " + plan.Reason);
            }

            summary += " " + plan.Summary + ".";
        }

        // Approvals are derived from what the SQL reads, never from what the proposer declares.
        var approvers = ApprovalVerifier.RequiredApprovers(row.Document, analysis.Tables);
        var hash = computation.Hash();
        var exists = await db.WriteAsync<ApiException?>((c, tx) =>
        {
            if (Store.FindComputation(c, tx, computation.Id) is not null)
            {
                // Audited in this transaction and returned, so that the entry commits.
                var reason = $"computation '{computation.Id}' already exists; a change is a new computation";
                audit.Append(c, tx, party.Name, "computation.proposed", target, "refused", "computation.exists", reason);
                return ApiException.Conflict("computation.exists", reason);
            }

            // Checked again inside the transaction: a termination that committed since the check above wins.
            var stateNow = EffectiveState(Store.FindContract(c, tx, id)!, time);
            if (stateNow != "active")
            {
                var reason = $"computation refused: contract '{id}' is {stateNow}, not active";
                audit.Append(c, tx, party.Name, "computation.proposed", target, "refused", "contract.not_active", reason);
                return ApiException.BadRequest("contract.not_active", reason);
            }

            Database.Exec(c, "INSERT INTO computations (id, contract_id, document, hash, state, required_approvers, tables_read, summary, created_at) VALUES ($id, $c, $d, $h, 'proposed', $a, $t, $s, $now);", tx,
                ("$id", computation.Id), ("$c", id), ("$d", Store.Json(computation)), ("$h", hash), ("$a", Store.Json(approvers)), ("$t", Store.Json(analysis.Tables)), ("$s", summary), ("$now", Store.Now(time)));
            audit.Append(c, tx, party.Name, "computation.proposed", target);
            return null;
        });
        if (exists is not null)
        {
            throw exists;
        }

        return Results.Created($"/api/computations/{computation.Id}", store.ComputationView(computation.Id));
    }

    private static async Task<IResult> GetComputation(string id, HttpContext http, Database db, Store store, RequestAuthenticator auth)
    {
        var view = store.ComputationView(id);
        var contract = store.FindContract(view.Computation.ContractId)!;
        await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), contract.Document, "computation/" + id, http.RequestAborted);
        return Results.Ok(view);
    }

    private static async Task<IResult> Vote(string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, JobLeases leases)
    {
        var body = await ReadBodyAsync(http);
        var view = store.ComputationView(id);
        var contract = store.FindContract(view.Computation.ContractId)!;
        var target = "computation/" + id;
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), contract.Document, target, http.RequestAborted);
        var request = await ParseBodyAsync<VoteRequest>(body, "vote", audit, party.Name, "computation.voted", target);

        async Task<ApiException> Refuse(int status, string code, string reason)
        {
            await audit.AppendAsync(party.Name, "computation.voted", target, "refused", code, reason);
            return new ApiException(status, code, reason);
        }

        var contractState = EffectiveState(contract, time);
        if (contractState != "active")
        {
            throw await Refuse(409, "contract.not_active", $"vote refused: contract '{contract.Document.Id}' is {contractState}, not active");
        }

        if (!view.RequiredApprovers.Contains(party.Name))
        {
            throw await Refuse(403, "vote.not_an_approver", $"vote refused: party '{party.Name}' is not a required approver of computation '{id}'");
        }

        var check = Jws.Verify(request.Jws, party.SigningKey, StatementTypes.Vote);
        var vote = check.IsValid ? check.Jws!.PayloadAs<VoteStatement>() : null;
        if (vote is null || vote.ComputationId != id || vote.Party != party.Name || vote.ContractId != contract.Document.Id)
        {
            throw await Refuse(400, "vote.bad_signature", "vote refused: " + (check.Reason ?? "it names another computation, contract or party"));
        }

        if (vote.ComputationHash != view.Hash)
        {
            throw await Refuse(409, "vote.stale", "vote refused: it was cast on a different version of the computation (hash mismatch)");
        }

        if (vote.Decision is not (VoteStatement.Approve or VoteStatement.Reject))
        {
            throw await Refuse(400, "vote.bad_decision", "vote refused: decision must be 'approve' or 'reject'");
        }

        var (state, vetoed, cancelled) = await db.WriteAsync<(string? State, ApiException? Vetoed, List<string> Cancelled)>((c, tx) =>
        {
            var jobs = new List<string>();

            // Checked again inside the transaction: a termination that committed since the check above wins.
            var contractNow = EffectiveState(Store.FindContract(c, tx, contract.Document.Id)!, time);
            if (contractNow != "active")
            {
                var reason = $"vote refused: contract '{contract.Document.Id}' is {contractNow}, not active";
                audit.Append(c, tx, party.Name, "computation.voted", target, "refused", "contract.not_active", reason);
                return (null, new ApiException(409, "contract.not_active", reason), jobs);
            }

            var current = Store.FindComputation(c, tx, id)!;
            if (current.State == "rejected")
            {
                // Audited in this transaction and returned, so that the entry commits.
                var reason = $"vote refused: computation '{id}' was already vetoed";
                audit.Append(c, tx, party.Name, "computation.voted", target, "refused", "computation.rejected", reason);
                return (null, ApiException.Conflict("computation.rejected", reason), jobs);
            }

            Database.Exec(c, "INSERT INTO votes (computation_id, party, decision, computation_hash, jws) VALUES ($c, $p, $d, $h, $j) ON CONFLICT (computation_id, party) DO UPDATE SET decision = excluded.decision, computation_hash = excluded.computation_hash, jws = excluded.jws;", tx,
                ("$c", id), ("$p", party.Name), ("$d", vote.Decision), ("$h", vote.ComputationHash), ("$j", request.Jws));
            audit.Append(c, tx, party.Name, vote.Decision == VoteStatement.Approve ? "computation.approved" : "computation.rejected", target);
            var newState = current.State;
            if (vote.Decision == VoteStatement.Reject)
            {
                newState = "rejected";
            }
            else
            {
                var approvals = Store.Approvers(c, tx, id);
                if (current.RequiredApprovers.All(approvals.Contains))
                {
                    newState = "approved";
                }
            }

            if (newState != current.State)
            {
                Database.Exec(c, "UPDATE computations SET state = $s WHERE id = $id;", tx, ("$s", newState), ("$id", id));
                audit.Append(c, tx, "server", "computation." + newState, target);
            }

            if (newState == "rejected" && current.State != "rejected")
            {
                // A veto after an approval withdraws it as a revocation does: the computation's queued and running
                // jobs are cancelled in this transaction (their enclaves are woken after the commit and stop in flight).
                var jobReason = $"job cancelled: computation '{id}' vetoed by '{party.Name}'";
                using (var cmd = Database.Command(c, "UPDATE jobs SET state = 'cancelled', reason_code = 'computation.rejected', reason = $r, lease_expires_at = NULL, updated_at = $t WHERE computation_id = $c AND state IN ('queued', 'running') RETURNING id;", tx,
                    ("$r", jobReason), ("$t", Store.Now(time)), ("$c", id)))
                using (var r = cmd.ExecuteReader())
                {
                    while (r.Read())
                    {
                        jobs.Add(r.GetString(0));
                    }
                }

                foreach (var job in jobs.Order(StringComparer.Ordinal))
                {
                    audit.Append(c, tx, "server", "job.cancelled", "job/" + job, "refused", "computation.rejected", jobReason);
                }
            }

            return (newState, null, jobs);
        });
        if (vetoed is not null)
        {
            throw vetoed;
        }

        leases.Notify(cancelled);

        return Results.Ok(new { id, state });
    }
}

public sealed record TerminateRequest(string? Reason = null);

public sealed record ContractTermination(string Id, string State, IReadOnlyList<string> CancelledJobs);

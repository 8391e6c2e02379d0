using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Server;

/// <summary>Consent revocation and restoration by data providers; both take effect at once and are audited.</summary>
public static class ConsentEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/contracts/{id}/consent/revoke", (string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, JobLeases leases) =>
            ChangeAsync(id, revoke: true, http, db, store, audit, auth, time, leases));
        app.MapPost("/api/contracts/{id}/consent/restore", (string id, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, JobLeases leases) =>
            ChangeAsync(id, revoke: false, http, db, store, audit, auth, time, leases));
        app.MapGet("/api/contracts/{id}/consent", ListAsync);
    }

    private static async Task<IResult> ListAsync(string id, HttpContext http, Database db, Store store, RequestAuthenticator auth)
    {
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), row.Document, "contract/" + id, http.RequestAborted);
        using var c = db.Open();
        return Results.Ok(ConsentStore.List(c, null, id).Select(r => new ConsentRevocation(r.Scope, r.Target, r.Party, r.RevokedAt)).ToList());
    }

    private static async Task<IResult> ChangeAsync(string id, bool revoke, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, JobLeases leases)
    {
        var body = await GovernanceEndpoints.ReadBodyAsync(http);
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        var action = revoke ? "consent.revoked" : "consent.restored";
        var party = await auth.AuthenticateAsync(http, Hashing.Sha256Hex(body), row.Document, "contract/" + id, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.DataProvider, revoke ? "revoking consent" : "restoring consent", "contract/" + id, http.RequestAborted);
        var request = await GovernanceEndpoints.ParseBodyAsync<ConsentChange>(body, "consent change", audit, party.Name, action, "contract/" + id);
        const string badScope = "consent change refused: scope must be 'contract' (target = the contract id), 'dataset' or 'computation' with an existing target";

        // Scope and target come from the body: checked to be a known scope and a name before either is written into an audit
        // target or a reason (a newline or a bidirectional override would otherwise land in the signed log).
        if (request.Scope is not (ConsentStore.ScopeContract or ConsentStore.ScopeDataset or ConsentStore.ScopeComputation) || !PartyIdentity.IsValidName(request.Target))
        {
            await audit.AppendAsync(party.Name, action, "contract/" + id, "refused", "consent.bad_scope", badScope);
            throw ApiException.BadRequest("consent.bad_scope", badScope);
        }

        var target = $"consent/{id}/{request.Scope}/{request.Target}";

        async Task<ApiException> Refuse(int status, string code, string reason)
        {
            await audit.AppendAsync(party.Name, action, target, "refused", code, reason);
            return new ApiException(status, code, reason);
        }

        switch (request.Scope)
        {
            case ConsentStore.ScopeContract when request.Target == id:
                break;
            case ConsentStore.ScopeDataset when row.Document.FindDataset(request.Target) is { } d:
                if (d.Owner != party.Name)
                {
                    throw await Refuse(403, "auth.not_owner", $"consent change refused: dataset '{d.Name}' belongs to '{d.Owner}', not '{party.Name}'");
                }

                break;
            case ConsentStore.ScopeComputation:
                using (var c = db.Open())
                {
                    var computation = Store.FindComputation(c, null, request.Target);
                    if (computation is null || computation.ContractId != id)
                    {
                        throw await Refuse(404, "computation.not_found", $"consent change refused: computation '{request.Target}' is not part of contract '{id}'");
                    }

                    if (!computation.Tables.Any(t => row.Document.FindDataset(t)?.Owner == party.Name))
                    {
                        throw await Refuse(403, "auth.not_owner", $"consent change refused: computation '{request.Target}' reads none of '{party.Name}''s datasets");
                    }
                }

                break;
            default:
                throw await Refuse(400, "consent.bad_scope", badScope);
        }

        var (changed, cancelled) = await db.WriteAsync((c, tx) =>
        {
            var now = Store.Now(time);
            var done = revoke
                ? ConsentStore.Revoke(c, tx, id, request.Scope, request.Target, party.Name, now)
                : ConsentStore.Restore(c, tx, id, request.Scope, request.Target, party.Name);
            audit.Append(c, tx, party.Name, action, target, "ok", done ? null : "consent.unchanged", done ? null : "nothing to change: the consent was already in that state");
            var jobs = revoke ? ConsentStore.CancelBlockedJobs(c, tx, id, now) : [];
            foreach (var job in jobs)
            {
                audit.Append(c, tx, "server", "job.cancelled", "job/" + job, "refused", "consent.revoked", $"job cancelled: consent revoked by '{party.Name}' for {request.Scope} '{request.Target}'");
            }

            return (done, jobs);
        });

        // Committed: wake the heartbeats of the cancelled jobs so that their enclaves stop in flight.
        leases.Notify(cancelled);
        return Results.Ok(new ConsentChangeResult(request.Scope, request.Target, revoke ? "revoked" : "restored", changed, cancelled));
    }
}

public sealed record ConsentChange(string Scope, string Target);

public sealed record ConsentChangeResult(string Scope, string Target, string State, bool Changed, IReadOnlyList<string> CancelledJobs);


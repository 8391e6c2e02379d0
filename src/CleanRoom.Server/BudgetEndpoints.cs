using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Server;

/// <summary>The privacy budget ledger, readable by every party of the contract.</summary>
public static class BudgetEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/api/contracts/{id}/budget", GetAsync)
            .WithSummary("The differential-privacy budget of each dataset: total (ε, δ), spent, remaining and every charge")
            .WithDescription("Readable by every party of the contract, whatever its role; refused (403 auth.not_a_party) to anyone else. Charges are made when a dp run is requested and never refunded.")
            .Produces<BudgetReport>(StatusCodes.Status200OK)
            .Produces<Problem>(StatusCodes.Status403Forbidden, "application/problem+json")
            .Produces<Problem>(StatusCodes.Status404NotFound, "application/problem+json");
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, Database db, Store store, RequestAuthenticator auth)
    {
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        await auth.AuthenticateAsync(http, Hashing.Sha256Hex(ReadOnlySpan<byte>.Empty), row.Document, "contract/" + id, http.RequestAborted);
        using var c = db.Open();
        // One snapshot, so totals and the charges list agree; deferred, so the reader never takes the write lock.
        using var tx = c.BeginTransaction(deferred: true);
        return Results.Ok(BudgetLedger.Report(c, tx, row.Document));
    }
}

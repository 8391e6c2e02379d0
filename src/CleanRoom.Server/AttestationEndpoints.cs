using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.KeyRelease;

namespace CleanRoom.Server;

/// <summary>
/// Wire-compatible endpoints: the local attestation authority speaks the MAA SevSnpVm attest API
/// and the key broker speaks the Key Vault key release API, so the enclave's code is the same
/// against the local server and against Azure.
/// </summary>
public static class AttestationEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/attest/SevSnpVm", Attest);
        app.MapGet("/certs", (LocalAttestation a) => Results.Text(a.JwksJson, "application/json"));
        app.MapGet("/.well-known/openid-configuration", (LocalAttestation a) => Results.Text(a.OpenIdMetadataJson, "application/json"));
        app.MapPost("/keys/{name}/{version}/release", Release);
        app.MapGet("/keys/broker-signing-key", (KeyBroker b) => Results.Text(b.SigningPublicKeyPem, "application/x-pem-file"));
    }

    private static async Task<IResult> Attest(HttpContext http, LocalAttestation attestation, AuditLog audit)
    {
        if (http.Request.Query["api-version"] != "2022-08-01")
        {
            const string badVersion = "attestation refused: api-version must be 2022-08-01";
            await audit.AppendAsync("anonymous", "attestation.refused", "attestation", "refused", "attest.api_version", badVersion);
            throw ApiException.BadRequest("attest.api_version", badVersion);
        }

        var body = await GovernanceEndpoints.ReadBodyAsync(http, 1024 * 1024);
        var result = attestation.Attest(body);
        if (!result.IsSuccess)
        {
            await audit.AppendAsync("anonymous", "attestation.refused", "attestation", "refused", result.ErrorCode, "attestation refused: " + result.Reason);
            throw ApiException.BadRequest(result.ErrorCode!, "attestation refused: " + result.Reason);
        }

        return Results.Ok(new { token = result.Token });
    }

    private static bool IsKeyName(string name) => name.Length is > 0 and <= 160 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsKeyVersion(string version) => version.Length is > 0 and <= 64 && version.All(char.IsAsciiLetterOrDigit);

    private static async Task<IResult> Release(string name, string version, HttpContext http, LocalAttestation attestation, KeyBroker broker, AuditLog audit)
    {
        // The broker names keys "{contract}--{dataset}" and versions 32 hex digits. A path that no key can have names nothing,
        // and is refused before it can be echoed into a reason or an audit target (it may hold a newline or a bidirectional
        // override, and the caller is not yet authenticated).
        if (!IsKeyName(name) || !IsKeyVersion(version))
        {
            throw ApiException.NotFound("key.not_found", "no such key: key names are letters, digits, '-' and '_', and versions are letters and digits");
        }

        var target = $"key/{name}";
        if (http.Request.Query["api-version"] != KeyReleaseResponse.ApiVersion)
        {
            const string badVersion = "key release refused: api-version must be 7.4";
            await audit.AppendAsync("anonymous", "key.release", target, "refused", "release.api_version", badVersion);
            throw ApiException.BadRequest("release.api_version", badVersion);
        }

        var body = await GovernanceEndpoints.ReadBodyAsync(http, 1024 * 1024);
        var request = ReleaseRequest.Parse(System.Text.Encoding.UTF8.GetString(body));
        if (!request.IsSuccess)
        {
            await audit.AppendAsync("anonymous", "key.release", target, "refused", request.ErrorCode, "key release refused: " + request.Reason);
            throw ApiException.BadRequest(request.ErrorCode!, "key release refused: " + request.Reason);
        }

        var session = attestation.ValidateEnclaveToken(request.Value!.Target);
        if (!session.IsValid)
        {
            var reason = "key release refused: " + session.Reason;
            await audit.AppendAsync("anonymous", "key.release", target, "refused", session.ErrorCode, reason);
            throw ApiException.Forbidden(session.ErrorCode!, reason);
        }

        using var release = broker.Authorize(name, version, session.Claims);
        if (!release.IsAllowed)
        {
            await audit.AppendAsync(session.Actor, "key.release", target, "refused", release.ErrorCode, release.Reason);
            throw ApiException.Forbidden(release.ErrorCode!, release.Reason!);
        }

        // The durable audit write and the wrapping and signing run at once; the response leaves only after both are done,
        // so no key is ever out without its release in the log.
        var audited = audit.AppendAsync(session.Actor, "key.release", target);
        string jws;
        try
        {
            jws = release.Seal(request.Value.Nonce, request.Value.Enc);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            await audited;
            await audit.AppendAsync(session.Actor, "key.release", target, "failed", "release.seal_failed", $"key release of '{name}' failed after it was allowed: the envelope could not be built; nothing was released");
            throw ApiException.BadRequest("release.seal_failed", $"key release of '{name}' failed: the envelope could not be built; nothing was released");
        }

        await audited;
        return Results.Ok(new { value = jws });
    }
}

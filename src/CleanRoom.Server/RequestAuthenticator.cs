using CleanRoom.Core;

namespace CleanRoom.Server;

/// <summary>
/// Checks a party's request signature (see RequestSignature) against the keys listed in a
/// contract, the timestamp window and single use of the nonce. Every refusal is audited.
/// </summary>
public sealed class RequestAuthenticator(Database db, AuditLog audit, TimeProvider time)
{
    public async Task<ContractParty> AuthenticateAsync(HttpContext http, string contentSha256Hex, ContractDocument contract, string target, CancellationToken cancellationToken) =>
        (await AuthenticateSignedAsync(http, contentSha256Hex, contract, target, cancellationToken)).Party;

    /// <summary>As <see cref="AuthenticateAsync"/>, and also returns the request's signed fields exactly as verified.</summary>
    public async Task<(ContractParty Party, VerifiedRequest Request)> AuthenticateSignedAsync(HttpContext http, string contentSha256Hex, ContractDocument contract, string target, CancellationToken cancellationToken)
    {
        var h = http.Request.Headers;
        string keyId = h[RequestSignature.KeyIdHeader].ToString();
        string timestampText = h[RequestSignature.TimestampHeader].ToString();
        string nonce = h[RequestSignature.NonceHeader].ToString();
        string signature = h[RequestSignature.SignatureHeader].ToString();
        var actor = keyId.Length > 0 ? "key:" + keyId[..Math.Min(12, keyId.Length)] : "anonymous";

        async Task<ApiException> Refuse(int status, string code, string reason)
        {
            await audit.AppendAsync(actor, "request.refused", target, "refused", code, reason, cancellationToken);
            return new ApiException(status, code, reason);
        }

        if (keyId.Length == 0 || timestampText.Length == 0 || nonce.Length is < 16 or > 64 || signature.Length == 0)
        {
            throw await Refuse(401, "auth.missing_signature", "request refused: it is not signed (CleanRoom-Key-Id, -Timestamp, -Nonce and -Signature headers are required)");
        }

        var party = contract.FindPartyByKeyId(keyId);
        if (party is null)
        {
            // Named by what the caller asked for: a stranger who names a computation or a job must not learn its contract's id.
            throw await Refuse(403, "auth.not_a_party", target.StartsWith("contract/", StringComparison.Ordinal)
                ? $"request refused: the signing key is not a party of contract '{contract.Id}'"
                : $"request refused: the signing key is not a party of the contract that holds {target}");
        }

        // Verified before anything is audited in the party's name: its key id is public, so until the signature verifies
        // the request is only a stranger's claim to be that party (audited as "key:…", like an unknown key).
        if (!long.TryParse(timestampText, out var timestamp))
        {
            throw await Refuse(401, "auth.stale_request", "request refused: its timestamp is more than 5 minutes from the server's clock");
        }

        PartyKeys.TryImportSigningPublicKey(party.SigningKey, out var key);
        var pathAndQuery = http.Request.Path.Value + http.Request.QueryString.Value;
        if (!RequestSignature.Verify(key!, http.Request.Method, pathAndQuery, contentSha256Hex, timestamp, nonce, signature))
        {
            throw await Refuse(401, "auth.bad_signature", "request refused: its signature does not verify under the party's key");
        }

        actor = party.Name;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var skew = (long)RequestSignature.MaxClockSkew.TotalSeconds;
        if (timestamp < now - skew || timestamp > now + skew) // no subtraction that can overflow
        {
            throw await Refuse(401, "auth.stale_request", "request refused: its timestamp is more than 5 minutes from the server's clock");
        }

        var fresh = await db.WriteAsync(
            (c, tx) =>
            {
                Database.Exec(c, "DELETE FROM request_nonces WHERE seen_at < $t;", tx, ("$t", timestamp - (long)(2 * RequestSignature.MaxClockSkew.TotalSeconds)));
                return Database.Scalar(c, "INSERT INTO request_nonces (key_id, nonce, seen_at) VALUES ($k, $n, $t) ON CONFLICT DO NOTHING RETURNING 1;", tx, ("$k", keyId), ("$n", nonce), ("$t", timestamp)) is not null;
            },
            cancellationToken);
        if (!fresh)
        {
            throw await Refuse(401, "auth.replayed_request", "request refused: its nonce was already used (replay)");
        }

        return (party, new VerifiedRequest(keyId, pathAndQuery, timestamp, nonce, signature));
    }

    public async Task RequireRoleAsync(ContractParty party, string role, string action, string target, CancellationToken cancellationToken)
    {
        if (!party.Has(role))
        {
            var reason = $"{action} refused: party '{party.Name}' does not hold the {role} role";
            await audit.AppendAsync(party.Name, "request.refused", target, "refused", "auth.role_required", reason, cancellationToken);
            throw ApiException.Forbidden("auth.role_required", reason);
        }
    }
}

/// <summary>The signed fields of a request that <see cref="RequestAuthenticator"/> verified (see RequestSignature).</summary>
public sealed record VerifiedRequest(string KeyId, string PathAndQuery, long Timestamp, string Nonce, string Signature);

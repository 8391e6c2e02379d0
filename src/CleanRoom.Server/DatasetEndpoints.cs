using System.Security.Cryptography;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.Server;

/// <summary>Dataset key creation and ciphertext publication. The server only ever sees ciphertext and a wrapped key.</summary>
public static class DatasetEndpoints
{
    public const string WrappedKeyHeader = "CleanRoom-Wrapped-Key";

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/contracts/{id}/datasets/{name}/key", CreateKey);
        app.MapPut("/api/contracts/{id}/datasets/{name}/ciphertext", Publish);
    }

    /// <summary>
    /// Contract ids and dataset names are names (<see cref="PartyIdentity.IsValidName"/>): a path segment that is not one
    /// names nothing, and is refused before it can be echoed into a refusal reason or an audit target (it may hold a
    /// newline or a bidirectional override, and the request may be unsigned).
    /// </summary>
    private static void RequireNames(string id, string name)
    {
        if (!PartyIdentity.IsValidName(id) || !PartyIdentity.IsValidName(name))
        {
            throw ApiException.NotFound("dataset.not_found", "no such dataset: contract ids and dataset names are 1-64 characters of a-z, 0-9, '-' and '_'");
        }
    }

    private static async Task<(ContractRow Row, ContractParty Owner, DatasetDeclaration Dataset)> AuthorizeOwnerAsync(
        string id, string name, string contentSha256, string action, HttpContext http, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time)
    {
        var row = store.FindContract(id) ?? throw ApiException.NotFound("contract.not_found", $"contract '{id}' does not exist");
        var target = $"dataset/{id}/{name}";
        var party = await auth.AuthenticateAsync(http, contentSha256, row.Document, target, http.RequestAborted);
        await auth.RequireRoleAsync(party, Roles.DataProvider, action, target, http.RequestAborted);
        var dataset = row.Document.FindDataset(name) ?? throw ApiException.NotFound("dataset.not_found", $"dataset '{name}' is not declared in contract '{id}'");
        if (dataset.Owner != party.Name)
        {
            var reason = $"{action} refused: dataset '{name}' belongs to '{dataset.Owner}', not '{party.Name}'";
            await audit.AppendAsync(party.Name, "request.refused", target, "refused", "auth.not_owner", reason);
            throw ApiException.Forbidden("auth.not_owner", reason);
        }

        var state = GovernanceEndpoints.EffectiveState(row, time);
        if (state != "active")
        {
            var reason = $"{action} refused: contract '{id}' is {state}, not active";
            await audit.AppendAsync(party.Name, "request.refused", target, "refused", "contract.not_active", reason);
            throw ApiException.Conflict("contract.not_active", reason);
        }

        return (row, party, dataset);
    }

    private static async Task<IResult> CreateKey(string id, string name, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, KeyBroker broker)
    {
        RequireNames(id, name);
        var body = await GovernanceEndpoints.ReadBodyAsync(http);
        var (row, party, _) = await AuthorizeOwnerAsync(id, name, Hashing.Sha256Hex(body), "creating a dataset key", http, store, audit, auth, time);
        var view = await db.WriteAsync((c, tx) =>
        {
            var existing = Store.Datasets(c, tx, id).Single(d => d.Name == name);
            if (existing.KeyName is not null)
            {
                return broker.Describe(c, tx, existing.KeyName, existing.KeyVersion!);
            }

            var key = broker.CreateKey(c, tx, $"{id}--{name}", row.Document.AttestationPolicy);
            Database.Exec(c, "UPDATE datasets SET key_name = $k, key_version = $v, state = 'key-created' WHERE contract_id = $c AND name = $n;", tx,
                ("$k", key.KeyName), ("$v", key.KeyVersion), ("$c", id), ("$n", name));
            audit.Append(c, tx, party.Name, "dataset.key_created", $"dataset/{id}/{name}");
            return key;
        });
        return Results.Ok(view);
    }

    private static async Task<IResult> Publish(string id, string name, HttpContext http, Database db, Store store, AuditLog audit, RequestAuthenticator auth, TimeProvider time, ServerOptions options)
    {
        RequireNames(id, name);

        // The signed body digest is the declared ciphertext SHA-256; the upload is refused unless the bytes match it.
        var declared = http.Request.Headers[RequestSignature.ContentSha256Header].ToString();
        var wrappedKey = http.Request.Headers[WrappedKeyHeader].ToString();
        if (declared.Length != 64 || !declared.All(char.IsAsciiHexDigitLower))
        {
            // Refused before the request is authenticated (the digest is what it signs): audited as anonymous.
            const string badDigest = "publication refused: CleanRoom-Content-SHA256 must be the lowercase hex SHA-256 of the ciphertext";
            await audit.AppendAsync("anonymous", "dataset.published", $"dataset/{id}/{name}", "refused", "dataset.bad_digest", badDigest);
            throw ApiException.BadRequest("dataset.bad_digest", badDigest);
        }

        var (_, party, _) = await AuthorizeOwnerAsync(id, name, declared, "publishing a dataset", http, store, audit, auth, time);
        var target = $"dataset/{id}/{name}";
        if (!Hashing.TryFromB64Url(wrappedKey, out var wrapped) || wrapped.Length is < 128 or > 1024)
        {
            await audit.AppendAsync(party.Name, "dataset.published", target, "refused", "dataset.bad_wrapped_key", "publication refused: the wrapped data key is missing or malformed");
            throw ApiException.BadRequest("dataset.bad_wrapped_key", "publication refused: the wrapped data key is missing or malformed");
        }

        // The header is not covered by the request signature; the signed query names its digest, so it cannot be swapped.
        if (http.Request.Query["wrappedKeySha256"].ToString() != Hashing.Sha256Hex(wrapped))
        {
            const string reason = "publication refused: the wrapped data key does not match the signed wrappedKeySha256 query parameter";
            await audit.AppendAsync(party.Name, "dataset.published", target, "refused", "dataset.bad_wrapped_key", reason);
            throw ApiException.BadRequest("dataset.bad_wrapped_key", reason);
        }

        var blobDir = Path.Combine(options.DataDirectory, "blobs");
        Directory.CreateDirectory(blobDir);
        var temp = Path.Combine(blobDir, $".upload-{Guid.NewGuid():N}");
        long length = 0;
        string actual;
        try
        {
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
                {
                    length += n;
                    if (length > options.MaxCiphertextBytes)
                    {
                        const string tooLarge = "publication refused: the ciphertext exceeds the server's size limit";
                        await audit.AppendAsync(party.Name, "dataset.published", target, "refused", "dataset.too_large", tooLarge);
                        throw ApiException.BadRequest("dataset.too_large", tooLarge);
                    }

                    sha.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), http.RequestAborted);
                }

                await file.FlushAsync(http.RequestAborted);
                file.Flush(flushToDisk: true);
                actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            }

            if (actual != declared)
            {
                var reason = "publication refused: the uploaded bytes do not match the signed ciphertext SHA-256 (corrupted or tampered in transit)";
                await audit.AppendAsync(party.Name, "dataset.published", target, "refused", "dataset.digest_mismatch", reason);
                throw ApiException.BadRequest("dataset.digest_mismatch", reason);
            }

            var final = Path.Combine(blobDir, actual + ".cre");
            File.Move(temp, final, overwrite: true);
            var refusal = await db.WriteAsync<ApiException?>((c, tx) =>
            {
                var row = Store.Datasets(c, tx, id).Single(d => d.Name == name);
                if (row.KeyName is null)
                {
                    // Audited in this transaction and returned, so that the entry commits.
                    var reason = $"publication refused: create the key for dataset '{name}' first";
                    audit.Append(c, tx, party.Name, "dataset.published", target, "refused", "dataset.no_key", reason);
                    return ApiException.Conflict("dataset.no_key", reason);
                }

                Database.Exec(c, "UPDATE datasets SET state = 'published', wrapped_key = $w, ciphertext_sha256 = $h, ciphertext_length = $l, blob_path = $p, published_at = $t WHERE contract_id = $c AND name = $n;", tx,
                    ("$w", wrappedKey), ("$h", actual), ("$l", length), ("$p", final), ("$t", Store.Now(time)), ("$c", id), ("$n", name));
                audit.Append(c, tx, party.Name, "dataset.published", target);
                return null;
            });
            if (refusal is not null)
            {
                throw refusal;
            }

            return Results.Ok(new { name, ciphertextSha256 = actual, ciphertextLength = length });
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

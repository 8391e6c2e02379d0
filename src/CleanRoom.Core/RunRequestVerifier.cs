using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using CleanRoom.Core.Api;

namespace CleanRoom.Core;

/// <summary>
/// The analyst's run request as a signed statement the enclave checks itself. The server forwards the request exactly as it
/// authenticated it (key id, path, timestamp, nonce, signature, body: see "Request authentication" in SECURITY.md), and
/// the enclave runs a job only if an analyst of the contract signed a request for this computation (its id in the path, its
/// hash in the body) with exactly the job's parameter values, and the job's id is the one that request derives. So the
/// operator can neither pick parameter values nor start a job nobody asked for, nor run one request as many jobs under
/// fresh ids.
/// </summary>
public static class RunRequestVerifier
{
    /// <summary>How old a run request may be when the enclave starts its job (a queue wait, not a replay window).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    private static readonly JsonDocumentOptions s_strict = new() { AllowDuplicateProperties = false, MaxDepth = 4 };

    /// <summary>The only path a run request for <paramref name="computationId"/> may be signed for (no query).</summary>
    public static string PathFor(string computationId) => $"/api/computations/{computationId}/jobs";

    /// <summary>
    /// The job id a run request derives: <c>job-</c> and the first 16 hex digits of SHA-256("cleanroom-job-v1\n" key id "\n" nonce).
    /// The server refuses a replayed nonce, so every accepted request gets its own id.
    /// </summary>
    public static string JobId(string keyId, string nonce) =>
        "job-" + Hashing.Sha256Hex(Encoding.UTF8.GetBytes($"cleanroom-job-v1\n{keyId}\n{nonce}"))[..16];

    /// <summary>
    /// Reads a run request body strictly: a JSON object with <c>computationHash</c> (the hash of the computation to run, 64
    /// lowercase hex digits) and optionally <c>parameters</c>, an object of string values (absent or null: none); nothing
    /// else, no name twice, every name and value valid text. The server and the enclave read the body the same way.
    /// </summary>
    public static bool TryParseBody(ReadOnlySpan<byte> body, [NotNullWhen(true)] out RunRequest? request)
    {
        request = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), s_strict);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // The duplicate-name check reads every name as text, and a lone surrogate escape in one is not text.
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            try
            {
                return TryReadMembers(document.RootElement, out request);
            }
            catch (InvalidOperationException)
            {
                // A name or value that is not text: a lone surrogate escape ("\ud800") or bytes that are not UTF-8, which
                // the parser lets through and JsonElement.Name and GetString() refuse. Malformed, like any other.
                return false;
            }
        }
    }

    private static bool TryReadMembers(JsonElement root, out RunRequest? request)
    {
        request = null;
        string? computationHash = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            switch (member.Name)
            {
                case "computationHash" when member.Value.ValueKind == JsonValueKind.String && IsHash(member.Value.GetString()!):
                    computationHash = member.Value.GetString();
                    break;
                case "parameters" when member.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "parameters" when member.Value.ValueKind == JsonValueKind.Object:
                    foreach (var parameter in member.Value.EnumerateObject())
                    {
                        if (parameter.Value.ValueKind != JsonValueKind.String)
                        {
                            return false;
                        }

                        values[parameter.Name] = parameter.Value.GetString()!;
                    }

                    break;
                default:
                    return false;
            }
        }

        if (computationHash is null)
        {
            return false;
        }

        request = new RunRequest(computationHash, values);
        return true;
    }

    private static bool IsHash(string text) => text.Length == 64 && text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// Returns null if <paramref name="request"/> is an analyst's valid signed request to run <paramref name="computation"/>
    /// (its id and its hash) with exactly <paramref name="parameters"/>, from which <paramref name="jobId"/> derives, signed at
    /// most <see cref="MaxAge"/> before <paramref name="now"/>; else a one-line reason that echoes no parameter value.
    /// </summary>
    public static string? Verify(ContractDocument contract, ComputationDocument computation, string jobId, SignedRunRequest? request, IReadOnlyDictionary<string, string>? parameters, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(computation);
        if (request is null)
        {
            return $"job '{jobId}' carries no signed run request";
        }

        if (parameters is null)
        {
            return $"job '{jobId}' carries no parameter values";
        }

        if (request.KeyId is null || request.Nonce is null || request.PathAndQuery is null || request.Signature is null || request.Body is null)
        {
            return $"the run request of job '{jobId}' is incomplete";
        }

        var party = contract.FindPartyByKeyId(request.KeyId);
        if (party is null || !PartyKeys.TryImportSigningPublicKey(party.SigningKey, out var key))
        {
            return $"the run request of job '{jobId}' is signed by a key that is not a party of contract '{contract.Id}'";
        }

        if (!party.Has(Roles.Analyst))
        {
            return $"the run request of job '{jobId}' is signed by '{party.Name}', who does not hold the {Roles.Analyst} role";
        }

        if (!string.Equals(request.PathAndQuery, PathFor(computation.Id), StringComparison.Ordinal))
        {
            return $"the run request of job '{jobId}' is not a request to run computation '{computation.Id}'";
        }

        if (!Hashing.TryFromB64Url(request.Body, out var body)
            || !RequestSignature.Verify(key!, "POST", request.PathAndQuery, Hashing.Sha256Hex(body), request.Timestamp, request.Nonce, request.Signature))
        {
            return $"the run request of job '{jobId}' does not verify under the key of '{party.Name}'";
        }

        if (!string.Equals(jobId, JobId(request.KeyId, request.Nonce), StringComparison.Ordinal))
        {
            return $"job '{jobId}' is not the job its run request derives (a signed request runs once, as one job)";
        }

        var signedAt = request.Timestamp;
        var latest = now.ToUnixTimeSeconds() + (long)RequestSignature.MaxClockSkew.TotalSeconds;
        var earliest = now.ToUnixTimeSeconds() - (long)MaxAge.TotalSeconds;
        if (signedAt > latest || signedAt < earliest)
        {
            return $"the run request of job '{jobId}' was signed more than {MaxAge.TotalHours:0} hours ago or in the future";
        }

        if (!TryParseBody(body, out var signed))
        {
            return $"the run request of job '{jobId}' is not a run request body";
        }

        // The path names the computation by id only; the hash binds the exact document (its contract included), so a
        // request cannot be run as another computation that the operator let be proposed under the same id.
        if (!string.Equals(signed.ComputationHash, computation.Hash(), StringComparison.Ordinal))
        {
            return $"the run request of job '{jobId}' was signed for another computation than '{computation.Id}' of contract '{contract.Id}' (hash mismatch)";
        }

        if (signed.Parameters.Count != parameters.Count
            || signed.Parameters.Any(p => !parameters.TryGetValue(p.Key, out var value) || !string.Equals(value, p.Value, StringComparison.Ordinal)))
        {
            return $"the parameter values of job '{jobId}' are not the ones '{party.Name}' signed";
        }

        return null;
    }
}

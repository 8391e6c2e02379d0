using System.Text;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Core;
using NSec.Cryptography;

namespace CleanRoom.Server;

/// <summary>
/// The server's local attestation authority (simulated mode only) and the token checks every
/// enclave-facing endpoint uses. The authority runs the same SEV-SNP parser and verifier as
/// production; only the trusted root differs (a simulated AMD root generated on this machine).
/// </summary>
public sealed class LocalAttestation : IDisposable
{
    private readonly AttestationAuthority _authority;
    private readonly TimeProvider _time;
    private readonly NonceReplayCache _nonces;

    public LocalAttestation(ServerOptions options, ServerPolicies policies, TimeProvider time)
    {
        _time = time;
        if (!options.SimulatedAttestation || options.SimulatedAmdDirectory is null)
        {
            throw new InvalidOperationException("the local attestation authority needs --simulated-attestation and --sim-amd DIR; production mode uses Azure Attestation");
        }

        var policyResult = AttestationPolicy.Parse(policies.ReadAttestationPolicy("simulated"));
        if (!policyResult.IsValid)
        {
            throw new InvalidOperationException("attestation policy 'simulated' cannot be parsed: " + policyResult.Reason);
        }

        Policy = policyResult.Policy!;
        _nonces = new NonceReplayCache(Policy.TokenLifetime, time);
        using var platform = SimulatedAmdPlatform.Load(options.SimulatedAmdDirectory);
        Issuer = Policy.Issuer;
        // The authority's signing key persists in the data directory so tokens stay verifiable across restarts.
        if (File.Exists(Path.Combine(options.DataDirectory, AttestationAuthority.SigningKeyFileName)))
        {
            _authority = AttestationAuthority.Load(options.DataDirectory, Policy, platform.TrustedRoots, Issuer, time);
        }
        else
        {
            _authority = new AttestationAuthority(Policy, platform.TrustedRoots, Issuer, time);
            _authority.SaveSigningKey(options.DataDirectory);
        }
        IsSimulated = true;
    }

    public AttestationPolicy Policy { get; }

    public void Dispose() => _authority.Dispose();

    public string Issuer { get; }

    public bool IsSimulated { get; }

    public string JwksJson => _authority.JwksJson;

    public string OpenIdMetadataJson => _authority.OpenIdMetadataJson;

    /// <summary>Parses an MAA SevSnpVm attest request body and runs the authority over it.</summary>
    public AttestOutcome Attest(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var reportWrapper = Hashing.FromB64Url(root.GetProperty("report").GetString()!);
            using var inner = JsonDocument.Parse(reportWrapper);
            var report = Hashing.FromB64Url(inner.RootElement.GetProperty("SnpReport").GetString()!);
            var chain = Encoding.UTF8.GetString(Hashing.FromB64Url(inner.RootElement.GetProperty("VcekCertChain").GetString()!));
            var runtime = root.GetProperty("runtimeData");
            if (runtime.GetProperty("dataType").GetString() != "JSON")
            {
                return AttestOutcome.Fail("attest.runtime_data_type", "runtimeData.dataType must be JSON");
            }

            var runtimeData = Hashing.FromB64Url(runtime.GetProperty("data").GetString()!);
            var nonce = root.TryGetProperty("nonce", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (string.IsNullOrEmpty(nonce))
            {
                return AttestOutcome.Fail(AttestErrorCodes.NonceRequired, "the request carries no nonce; this authority needs one per request to refuse replays");
            }

            var result = _authority.Attest(new SnpAttestRequest { Report = report, VcekCertChainPem = chain, RuntimeData = runtimeData, Nonce = nonce });
            if (!result.IsSuccess)
            {
                return AttestOutcome.Fail(result.ErrorCode!, result.Reason!);
            }

            // Recorded only once the evidence verified, so unauthenticated junk cannot fill the cache;
            // the check-and-record is atomic, so of two concurrent identical requests only one gets a token.
            return _nonces.TryRecord(nonce, out var replay)
                ? AttestOutcome.Ok(result.Token!)
                : AttestOutcome.Fail(AttestErrorCodes.NonceReplayed, replay!);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return AttestOutcome.Fail("attest.malformed_request", "the attestation request is not in the SevSnpVm wire format");
        }
    }

    /// <summary>Validates a token issued by this authority and extracts the enclave's keys from its runtime claims.</summary>
    public EnclaveSession ValidateEnclaveToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return EnclaveSession.Fail("token.missing", "no attestation token was presented");
        }

        var result = AttestationTokenValidator.Validate(token, JwksJson, new TokenValidationOptions
        {
            ExpectedIssuer = Issuer,
            AllowSimulated = IsSimulated,
            TimeProvider = _time,
        });
        if (!result.IsValid)
        {
            return EnclaveSession.Fail(result.ErrorCode!, result.Reason!);
        }

        var runtime = RuntimeKeys.Read(result.Claims);
        return runtime.IsValid
            ? EnclaveSession.Ok(runtime.EnclaveId!, runtime.SigningKey!, result.Claims.Clone())
            : EnclaveSession.Fail(runtime.ErrorCode!, runtime.Reason!);
    }
}

public sealed record AttestOutcome(string? Token, string? ErrorCode, string? Reason)
{
    public bool IsSuccess => Token is not null;

    public static AttestOutcome Ok(string token) => new(token, null, null);

    public static AttestOutcome Fail(string code, string reason) => new(null, code, reason);
}

// The enclave's side of attestation: evidence binding SHA-256(runtime keys) in REPORT_DATA,
// exchanged for an MAA-shaped token, which the enclave itself then checks (RS256 against the
// authority's /certs JWKS, pinned issuer, exp/nbf, and the nonce it just sent: a stale or
// substituted token is refused before it is ever presented for a key).
using System.Security.Cryptography;
using CleanRoom.Attestation;
using CleanRoom.Core;

namespace CleanRoom.Enclave;

/// <summary>One attestation round: evidence → token → the enclave's own token check.</summary>
internal sealed class EnclaveAttestation(IEvidenceSource evidence, IEnclaveAttestationClient authority, string expectedIssuer, TimeProvider time)
{
    public IEvidenceSource Evidence => evidence;

    public IEnclaveAttestationClient Authority => authority;

    public string ExpectedIssuer => expectedIssuer;

    // The evidence of this boot: a report binds only REPORT_DATA (the hash of the per-boot keys), never the request nonce,
    // so one report serves every attestation of a boot. Fetching it is the PSP's time, and the authority recognises the
    // exact bytes it verified before. Dropped after any refusal, so a failure never repeats on stale evidence.
    private volatile CachedEvidence? _evidence;

    // The authority's signing keys (/certs) as last fetched; a token they cannot verify makes the enclave fetch them again.
    private volatile string? _jwks;

    /// <summary>Returns a token that carries <paramref name="nonce"/> (a fresh one when null), or throws <see cref="JobRefusalException"/>.</summary>
    public async Task<string> AttestAsync(EnclaveKeys keys, string? nonce, CancellationToken cancellationToken)
    {
        nonce ??= Hashing.B64Url(RandomNumberGenerator.GetBytes(16));
        var material = await EvidenceAsync(keys.ReportData(), cancellationToken);
        try
        {
            var token = await authority.AttestAsync(material, keys.RuntimeData, nonce, cancellationToken);
            var jwks = _jwks;
            var check = jwks is null ? null : Check(token, jwks, nonce);
            if (check is not { IsValid: true })
            {
                // First use, or the authority rotated its keys: fetch /certs again; only this fresh answer decides.
                jwks = await authority.GetJwksAsync(cancellationToken);
                check = Check(token, jwks, nonce);
                _jwks = check.IsValid ? jwks : null;
            }

            return check.IsValid ? token : throw new JobRefusalException(check.ErrorCode!, "attestation token refused by the enclave: " + check.Reason);
        }
        catch
        {
            _evidence = null;
            throw;
        }
    }

    /// <summary>This boot's evidence for <paramref name="reportData"/>: fetched once, then reused until an attestation fails.</summary>
    public async Task<AttestationEvidence> EvidenceAsync(byte[] reportData, CancellationToken cancellationToken)
    {
        if (_evidence is { } known && CryptographicOperations.FixedTimeEquals(known.ReportData, reportData))
        {
            return known.Evidence;
        }

        var fresh = await evidence.GetEvidenceAsync(reportData, cancellationToken);
        _evidence = new CachedEvidence((byte[])reportData.Clone(), fresh);
        return fresh;
    }

    /// <summary>The enclave's check of a token it was just given for <paramref name="nonce"/>.</summary>
    public TokenValidationResult Check(string token, string jwksJson, string nonce) =>
        AttestationTokenValidator.Validate(token, jwksJson, new TokenValidationOptions
        {
            ExpectedIssuer = expectedIssuer,
            ExpectedNonce = nonce,
            AllowSimulated = evidence.IsSimulated,
            TimeProvider = time,
        });

    private sealed record CachedEvidence(byte[] ReportData, AttestationEvidence Evidence);
}

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

    /// <summary>Returns a token that carries <paramref name="nonce"/> (a fresh one when null), or throws <see cref="JobRefusalException"/>.</summary>
    public async Task<string> AttestAsync(EnclaveKeys keys, string? nonce, CancellationToken cancellationToken)
    {
        nonce ??= Hashing.B64Url(RandomNumberGenerator.GetBytes(16));
        var material = await evidence.GetEvidenceAsync(keys.ReportData(), cancellationToken);
        var token = await authority.AttestAsync(material, keys.RuntimeData, nonce, cancellationToken);
        var jwks = await authority.GetJwksAsync(cancellationToken);
        var check = Check(token, jwks, nonce);
        return check.IsValid ? token : throw new JobRefusalException(check.ErrorCode!, "attestation token refused by the enclave: " + check.Reason);
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
}

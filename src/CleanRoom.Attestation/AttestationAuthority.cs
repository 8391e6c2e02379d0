// A local attestation authority in the shape of Microsoft Azure Attestation (MAA) for SEV-SNP
// (Azure docs "Examples of an attestation token", api-version 2022-08-01): verifies SNP evidence,
// applies an attestation policy, and issues an RS256 JWT (RFC 7519/7515) signed with RSA-2048 (the size of MAA's own token signing
// keys; see SECURITY.md "Key sizes");
// kid = RFC 7638 thumbprint, jku = {issuer}/certs.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CleanRoom.Attestation.Internal;

namespace CleanRoom.Attestation;

/// <summary>
/// Issues MAA-shaped attestation tokens for SEV-SNP evidence that verifies under the given
/// trusted roots and satisfies the policy. Under simulated roots every token carries
/// <c>x-cleanroom-simulated: true</c> and the policy's unmistakable simulated issuer.
/// </summary>
public sealed class AttestationAuthority : IDisposable
{
    public const string SigningKeyFileName = "attestation-signing.key.pem";
    private const int MaxNonceLength = 1024;
    private const int MaxRuntimeDataLength = 64 * 1024;
    private const int MaxCertChainLength = 64 * 1024;

    private readonly AttestationPolicy _policy;
    private readonly SnpTrustedRoots _roots;
    /// <summary>
    /// Tokens are short-lived authentication, not long-term secrecy: RSA-2048 (112-bit security) as MAA uses, half the cost of
    /// RSA-3072 per signature. A key loaded from disk may be larger.
    /// </summary>
    public const int SigningKeySizeBits = 2048;

    private readonly SnpVerifier _verifier;
    private readonly TimeProvider _time;
    private readonly RSA _key;
    private readonly RSAParameters _publicKey;
    private readonly Lock _signLock = new();

    public AttestationAuthority(AttestationPolicy policy, SnpTrustedRoots trustedRoots, string issuer, TimeProvider? timeProvider = null)
        : this(policy, trustedRoots, issuer, timeProvider, RSA.Create(SigningKeySizeBits))
    {
    }

    private AttestationAuthority(AttestationPolicy policy, SnpTrustedRoots trustedRoots, string issuer, TimeProvider? timeProvider, RSA key)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(policy);
            ArgumentNullException.ThrowIfNull(trustedRoots);
            ArgumentException.ThrowIfNullOrEmpty(issuer);
            if (!string.Equals(policy.Issuer, issuer, StringComparison.Ordinal))
            {
                throw new ArgumentException($"issuer '{issuer}' differs from policy '{policy.Name}' issuer '{policy.Issuer}'", nameof(issuer));
            }

            if (trustedRoots.IsSimulated != (policy.RootOfTrust == AttestationRootOfTrust.SimulatedAmd))
            {
                throw new ArgumentException($"policy '{policy.Name}' root of trust {policy.RootOfTrust} does not match the {(trustedRoots.IsSimulated ? "simulated" : "production")} trusted roots", nameof(trustedRoots));
            }

            if (key.KeySize < SigningKeySizeBits)
            {
                throw new ArgumentException($"the signing key must be RSA-{SigningKeySizeBits} or larger", nameof(key));
            }
        }
        catch
        {
            key.Dispose();
            throw;
        }

        _policy = policy;
        _roots = trustedRoots;
        _time = timeProvider ?? TimeProvider.System;
        _verifier = new SnpVerifier(trustedRoots, _time);
        _key = key;
        _publicKey = key.ExportParameters(false);
        Issuer = issuer;
        KeyId = Jose.RsaThumbprint(_publicKey);
    }

    public string Issuer { get; }

    /// <summary>RFC 7638 thumbprint of the signing key; the JWT header's kid.</summary>
    public string KeyId { get; }

    /// <summary>Where the JWKS is published: {issuer}/certs (the header's jku).</summary>
    public string CertsUrl => Issuer + "/certs";

    public bool IsSimulated => _roots.IsSimulated;

    private string? _jwksJson;

    /// <summary>The JWKS served at <see cref="CertsUrl"/>; built once (the signing key never changes), since every token check reads it.</summary>
    public string JwksJson => _jwksJson ??= Jose.WriteJson(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("keys");
        Jose.WriteRsaJwk(w, _publicKey, KeyId);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>The document served at {issuer}/.well-known/openid-configuration.</summary>
    public string OpenIdMetadataJson => Jose.WriteJson(w =>
    {
        w.WriteStartObject();
        w.WriteString("issuer", Issuer);
        w.WriteString("jwks_uri", CertsUrl);
        w.WriteStartArray("id_token_signing_alg_values_supported");
        w.WriteStringValue("RS256");
        w.WriteEndArray();
        w.WriteStartArray("response_types_supported");
        w.WriteStringValue("token");
        w.WriteEndArray();
        w.WriteStartArray("claims_supported");
        foreach (string claim in SupportedClaims)
        {
            w.WriteStringValue(claim);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static string[] SupportedClaims =>
    [
        "iss", "iat", "nbf", "exp", "jti", "nonce", "x-ms-ver", "x-ms-attestation-type", "x-ms-compliance-status", "x-ms-policy-hash",
        "x-ms-runtime", "x-ms-sevsnpvm-authorkeydigest", "x-ms-sevsnpvm-bootloader-svn", "x-ms-sevsnpvm-familyId",
        "x-ms-sevsnpvm-guestsvn", "x-ms-sevsnpvm-hostdata", "x-ms-sevsnpvm-idkeydigest", "x-ms-sevsnpvm-imageId",
        "x-ms-sevsnpvm-is-debuggable", "x-ms-sevsnpvm-launchmeasurement", "x-ms-sevsnpvm-microcode-svn",
        "x-ms-sevsnpvm-migration-allowed", "x-ms-sevsnpvm-reportdata", "x-ms-sevsnpvm-reportid", "x-ms-sevsnpvm-smt-allowed",
        "x-ms-sevsnpvm-snpfw-svn", "x-ms-sevsnpvm-tee-svn", "x-ms-sevsnpvm-vmpl", "x-cleanroom-sevsnpvm-product", "x-cleanroom-simulated",
    ];

    /// <summary>Loads an authority whose signing key was written by <see cref="SaveSigningKey"/>.</summary>
    public static AttestationAuthority Load(string directory, AttestationPolicy policy, SnpTrustedRoots trustedRoots, string issuer, TimeProvider? timeProvider = null)
    {
        var key = RSA.Create();
        try
        {
            key.ImportFromPem(PrivateKeyFile.Read(Path.Combine(directory, SigningKeyFileName)));
        }
        catch
        {
            key.Dispose();
            throw;
        }

        return new AttestationAuthority(policy, trustedRoots, issuer, timeProvider, key);
    }

    /// <summary>Writes the signing key as PKCS#8 PEM, mode 0600.</summary>
    public void SaveSigningKey(string directory)
    {
        Directory.CreateDirectory(directory);
        PrivateKeyFile.Write(Path.Combine(directory, SigningKeyFileName), _key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Verifies the evidence, evaluates the policy and issues a token, or refuses with a stable code.</summary>
    public AttestResult Attest(SnpAttestRequest request)
    {
        if (request?.Report is null || request.VcekCertChainPem is null || request.RuntimeData is null)
        {
            return AttestResult.Failure(AttestErrorCodes.RequestInvalid, "report, VCEK certificate chain and runtime data are all required");
        }

        if (request.VcekCertChainPem.Length > MaxCertChainLength)
        {
            return AttestResult.Failure(AttestErrorCodes.RequestInvalid, $"the certificate chain exceeds {MaxCertChainLength} characters");
        }

        if (request.Nonce is { } nonce && (nonce.Length > MaxNonceLength || nonce.Any(char.IsControl)))
        {
            return AttestResult.Failure(AttestErrorCodes.RequestInvalid, $"the nonce must be at most {MaxNonceLength} printable characters");
        }

        SnpVerificationResult evidence = _verifier.Verify(request.Report, request.VcekCertChainPem);
        if (!evidence.IsValid)
        {
            return AttestResult.Failure(evidence.ErrorCode, evidence.Reason);
        }

        if (request.RuntimeData.Length > MaxRuntimeDataLength)
        {
            return AttestResult.Failure(AttestErrorCodes.RuntimeDataInvalid, $"runtime data exceeds {MaxRuntimeDataLength} bytes");
        }

        JsonElement runtime;
        using (JsonDocument? doc = Jose.TryParseStrict(request.RuntimeData))
        {
            if (doc is null)
            {
                return AttestResult.Failure(AttestErrorCodes.RuntimeDataInvalid, "runtime data is not valid JSON (or repeats a property, or escapes a lone UTF-16 surrogate)");
            }

            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return AttestResult.Failure(AttestErrorCodes.RuntimeDataInvalid, "runtime data must be a JSON object");
            }

            runtime = doc.RootElement.Clone();
        }

        PolicyEvaluationResult decision = _policy.Evaluate(evidence, SHA256.HashData(request.RuntimeData));
        if (!decision.IsAllowed)
        {
            return AttestResult.Failure(decision.ErrorCode, decision.Reason);
        }

        return AttestResult.Success(Sign(BuildClaims(evidence, runtime, request.Nonce)));
    }

    public void Dispose() => _key.Dispose();

    private string BuildClaims(SnpVerificationResult evidence, JsonElement runtime, string? nonce)
    {
        SnpReport r = evidence.Report!;
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        return Jose.WriteJson(w =>
        {
            w.WriteStartObject();
            w.WriteString("iss", Issuer);
            w.WriteNumber("iat", now);
            w.WriteNumber("nbf", now);
            w.WriteNumber("exp", now + (long)_policy.TokenLifetime.TotalSeconds);
            w.WriteString("jti", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
            if (nonce is not null)
            {
                w.WriteString("nonce", nonce);
            }

            w.WriteString("x-ms-ver", "1.0");
            w.WriteString("x-ms-attestation-type", "sevsnpvm");
            w.WriteString("x-ms-compliance-status", _roots.IsSimulated ? "cleanroom-simulated" : "cleanroom-compliant");
            w.WriteString("x-ms-policy-hash", _policy.PolicyHash);
            w.WritePropertyName("x-ms-runtime");
            runtime.WriteTo(w);
            w.WriteString("x-ms-sevsnpvm-authorkeydigest", Convert.ToHexStringLower(r.AuthorKeyDigest.Span));
            w.WriteNumber("x-ms-sevsnpvm-bootloader-svn", r.ReportedTcb.Bootloader);
            w.WriteString("x-ms-sevsnpvm-familyId", Convert.ToHexStringLower(r.FamilyId.Span));
            w.WriteNumber("x-ms-sevsnpvm-guestsvn", r.GuestSvn);
            w.WriteString("x-ms-sevsnpvm-hostdata", Convert.ToHexStringLower(r.HostData.Span));
            w.WriteString("x-ms-sevsnpvm-idkeydigest", Convert.ToHexStringLower(r.IdKeyDigest.Span));
            w.WriteString("x-ms-sevsnpvm-imageId", Convert.ToHexStringLower(r.ImageId.Span));
            w.WriteBoolean("x-ms-sevsnpvm-is-debuggable", r.Policy.Debug);
            w.WriteString("x-ms-sevsnpvm-launchmeasurement", Convert.ToHexStringLower(r.Measurement.Span));
            w.WriteNumber("x-ms-sevsnpvm-microcode-svn", r.ReportedTcb.Microcode);
            w.WriteBoolean("x-ms-sevsnpvm-migration-allowed", r.Policy.MigrateMa);
            w.WriteString("x-ms-sevsnpvm-reportdata", Convert.ToHexStringLower(r.ReportData.Span));
            w.WriteString("x-ms-sevsnpvm-reportid", Convert.ToHexStringLower(r.ReportId.Span));
            w.WriteBoolean("x-ms-sevsnpvm-smt-allowed", r.Policy.SmtAllowed);
            w.WriteNumber("x-ms-sevsnpvm-snpfw-svn", r.ReportedTcb.Snp);
            w.WriteNumber("x-ms-sevsnpvm-tee-svn", r.ReportedTcb.Tee);
            w.WriteNumber("x-ms-sevsnpvm-vmpl", r.Vmpl);
            w.WriteString("x-cleanroom-sevsnpvm-product", evidence.ProductName);
            if (_roots.IsSimulated)
            {
                w.WriteBoolean("x-cleanroom-simulated", true);
            }

            w.WriteEndObject();
        });
    }

    private string Sign(string payloadJson)
    {
        string header = Jose.WriteJson(w =>
        {
            w.WriteStartObject();
            w.WriteString("alg", "RS256");
            w.WriteString("jku", CertsUrl);
            w.WriteString("kid", KeyId);
            w.WriteString("typ", "JWT");
            w.WriteEndObject();
        });
        string signingInput = Jose.Encode(Encoding.UTF8.GetBytes(header)) + "." + Jose.Encode(Encoding.UTF8.GetBytes(payloadJson));
        byte[] signature;
        lock (_signLock)
        {
            // RSA instances are not documented as thread-safe; the server attests concurrently.
            signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        return signingInput + "." + Jose.Encode(signature);
    }
}

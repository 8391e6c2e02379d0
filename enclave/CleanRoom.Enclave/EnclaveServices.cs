using Azure.Identity;
using CleanRoom.Attestation;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>
/// Picks the evidence source, attestation authority and key release service from configuration
/// alone. Refuses contradictory settings rather than guessing: Azure services need real evidence
/// and a pinned policy, and nothing ever falls back to simulation.
/// </summary>
internal sealed class EnclaveServices : IDisposable
{
    private EnclaveServices(EnclaveAttestation attestation, IEnclaveKeyReleaseClient keyRelease, HttpClient? ownedHttp)
    {
        Attestation = attestation;
        KeyRelease = keyRelease;
        _ownedHttp = ownedHttp;
    }

    private readonly HttpClient? _ownedHttp;

    public EnclaveAttestation Attestation { get; }

    public IEnclaveKeyReleaseClient KeyRelease { get; }

    /// <summary>The services for <paramref name="options"/>, or null with a one-line reason.</summary>
    public static EnclaveServices? Create(EnclaveOptions options, EnclaveServerClient server, TimeProvider time, out string? error)
    {
        var azure = options.AttestationEndpoint is not null || options.KeyVault is not null;
        IEvidenceSource evidence;
        switch (options.Evidence)
        {
            case "simulated":
                if (!options.Simulated || options.SimulatedAmdDirectory is null)
                {
                    error = "no hardware evidence source is configured (pass --simulated --sim-amd DIR for local mode, or --evidence tsm)";
                    return null;
                }

                if (azure)
                {
                    error = "Azure Attestation / Key Vault need real evidence (--evidence tsm); simulated evidence is for the local server only";
                    return null;
                }

                evidence = new SimulatedEvidenceSource(SimulatedAmdPlatform.Load(options.SimulatedAmdDirectory));
                break;
            case "tsm":
                if (options.Simulated)
                {
                    error = "--simulated contradicts --evidence tsm; choose one";
                    return null;
                }

                evidence = new ConfigFsTsmEvidenceSource(options.TsmRoot, options.VcekChainFile);
                break;
            default:
                error = $"unknown evidence source '{options.Evidence}' (simulated or tsm)";
                return null;
        }

        string issuer;
        if (options.AttestationPolicyFile is { } policyFile)
        {
            var policy = AttestationPolicy.Load(policyFile);
            if (!policy.IsValid)
            {
                evidence.Dispose();
                error = $"attestation policy {policyFile} cannot be used: {policy.Reason}";
                return null;
            }

            issuer = policy.Policy!.Issuer;
        }
        else if (evidence.IsSimulated)
        {
            issuer = SimulatedAmdPlatform.SimulatedIssuer;
        }
        else
        {
            evidence.Dispose();
            error = "real evidence needs --attestation-policy FILE (the issuer the enclave pins)";
            return null;
        }

        string? signerPem = null, rootsPem = null;
        if (options.KeyVaultSignerFile is not null || options.KeyVaultRootsFile is not null)
        {
            if (options.KeyVault is null)
            {
                evidence.Dispose();
                error = "--key-vault-signer and --key-vault-roots only apply with --key-vault URL";
                return null;
            }

            if (!TryLoadKeyVaultSigners(options, out signerPem, out rootsPem, out error))
            {
                evidence.Dispose();
                return null;
            }
        }

        if (azure)
        {
            try
            {
                return CreateAzure(options, server, evidence, issuer, signerPem, rootsPem, time, out error);
            }
            catch (ArgumentException ex)
            {
                evidence.Dispose();
                error = "Azure endpoint refused: " + ex.Message;
                return null;
            }
        }

        error = null;
        return new EnclaveServices(new EnclaveAttestation(evidence, server, issuer, time), server, null);
    }

    private static EnclaveServices CreateAzure(EnclaveOptions options, EnclaveServerClient server, IEvidenceSource evidence, string issuer,
        string? keyVaultSignerPem, string? keyVaultRootsPem, TimeProvider time, out string? error)
    {
        HttpClient? http = null;
        IEnclaveAttestationClient authority = server;
        IEnclaveKeyReleaseClient keyRelease = server;
        var credential = new DefaultAzureCredential();
        if (options.AttestationEndpoint is { } maa)
        {
            http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            authority = new AzureEnclaveAttestationClient(new AzureAttestationClient(maa, credential), maa, http);
        }

        if (options.KeyVault is { } vault)
        {
            keyRelease = new AzureEnclaveKeyReleaseClient(new KeyVaultKeyReleaseClient(vault, credential), keyVaultSignerPem, keyVaultRootsPem);
        }

        error = null;
        return new EnclaveServices(new EnclaveAttestation(evidence, authority, issuer, time), keyRelease, http);
    }

    /// <summary>Reads and checks the Key Vault signer files at startup, so a bad file stops the enclave rather than every job.</summary>
    private static bool TryLoadKeyVaultSigners(EnclaveOptions options, out string? signerPem, out string? rootsPem, out string? error)
    {
        signerPem = rootsPem = null;
        try
        {
            signerPem = options.KeyVaultSignerFile is { } signerFile ? File.ReadAllText(signerFile) : null;
            rootsPem = options.KeyVaultRootsFile is { } rootsFile ? File.ReadAllText(rootsFile) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read the Key Vault signer configuration (--key-vault-signer / --key-vault-roots): {ex.Message}";
            return false;
        }

        var trust = KeyReleaseSignerTrust.FromPem(signerPem, rootsPem);
        if (!trust.IsSuccess)
        {
            error = $"Key Vault signer configuration cannot be used: {trust.Reason}";
            return false;
        }

        trust.Value.Dispose();
        error = null;
        return true;
    }

    public void Dispose()
    {
        Attestation.Evidence.Dispose();
        _ownedHttp?.Dispose();
    }
}

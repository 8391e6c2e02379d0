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

        if (azure)
        {
            try
            {
                return CreateAzure(options, server, evidence, issuer, time, out error);
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

    private static EnclaveServices CreateAzure(EnclaveOptions options, EnclaveServerClient server, IEvidenceSource evidence, string issuer, TimeProvider time, out string? error)
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
            keyRelease = new AzureEnclaveKeyReleaseClient(new KeyVaultKeyReleaseClient(vault, credential), options.KeyVaultSignerFile);
        }

        error = null;
        return new EnclaveServices(new EnclaveAttestation(evidence, authority, issuer, time), keyRelease, http);
    }

    public void Dispose()
    {
        Attestation.Evidence.Dispose();
        _ownedHttp?.Dispose();
    }
}

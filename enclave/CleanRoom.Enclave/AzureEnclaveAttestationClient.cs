using Azure;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>Azure Attestation (MAA) SevSnpVm over <see cref="AzureAttestationClient"/>; JWKS from the instance's <c>/certs</c>.</summary>
internal sealed class AzureEnclaveAttestationClient(AzureAttestationClient client, Uri instance, HttpClient http) : IEnclaveAttestationClient
{
    public bool IsLocal => false;

    public async Task<string> AttestAsync(AttestationEvidence evidence, byte[] runtimeData, string nonce, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.AttestSevSnpVmAsync(evidence.Report, evidence.VcekCertChainPem, runtimeData, nonce, cancellationToken)).Value;
        }
        catch (RequestFailedException ex)
        {
            throw new JobRefusalException("attest.maa_refused", $"Azure Attestation refused the evidence: {ex.Message}");
        }
    }

    public Task<string> GetJwksAsync(CancellationToken cancellationToken) =>
        http.GetStringAsync(new Uri(instance.AbsoluteUri.TrimEnd('/') + "/certs"), cancellationToken);
}

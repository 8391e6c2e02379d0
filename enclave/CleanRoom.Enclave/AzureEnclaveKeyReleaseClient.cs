using Azure;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>Azure Key Vault / Managed HSM key release over <see cref="KeyVaultKeyReleaseClient"/>.</summary>
internal sealed class AzureEnclaveKeyReleaseClient(KeyVaultKeyReleaseClient client) : IEnclaveKeyReleaseClient
{
    public bool IsLocal => false;

    public async Task<string> ReleaseAsync(string name, string version, string attestationToken, string nonce, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.ReleaseAsync(name, version, attestationToken, nonce, KeyWrapAlgorithm.RsaAesKeyWrap256, cancellationToken)).Value;
        }
        catch (RequestFailedException ex)
        {
            // The SDK's message names the service, status and error code, never the token.
            throw new JobRefusalException("release.key_vault_refused", $"release of key '{name}' refused by Key Vault: {ex.Message}");
        }
    }
}

using Azure;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>Azure Key Vault / Managed HSM key release over <see cref="KeyVaultKeyReleaseClient"/>.</summary>
internal sealed class AzureEnclaveKeyReleaseClient(KeyVaultKeyReleaseClient client, string? signerPemFile) : IEnclaveKeyReleaseClient
{
    public bool IsLocal => false;

    /// <summary>
    /// Key Vault signs release responses with its own certificate; until its x5c chain is validated to
    /// Microsoft's roots, the expected signer is pinned by configuration (--key-vault-signer). Without it
    /// every release is refused: a response that cannot be authenticated is not used.
    /// </summary>
    public async Task<string> SignerPublicKeyPemAsync(CancellationToken cancellationToken) =>
        signerPemFile is null
            ? throw new JobRefusalException("release.signer_unknown", "key release refused: no Key Vault signing key is pinned (pass --key-vault-signer FILE)")
            : await File.ReadAllTextAsync(signerPemFile, cancellationToken);

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

using Azure;
using CleanRoom.KeyRelease;

namespace CleanRoom.Enclave;

/// <summary>
/// Azure Key Vault / Managed HSM key release over <see cref="KeyVaultKeyReleaseClient"/>. Key Vault
/// signs release responses with its own certificate and sends the chain as the JWS <c>x5c</c>
/// header; a response is trusted when that chain validates to the configured roots
/// (--key-vault-roots), or it verifies under a pinned signer (--key-vault-signer), or both when both
/// are configured. The PEM texts were read and checked at startup (<see cref="EnclaveServices"/>).
/// </summary>
internal sealed class AzureEnclaveKeyReleaseClient(KeyVaultKeyReleaseClient client, string? signerPem, string? trustedRootsPem) : IEnclaveKeyReleaseClient
{
    public bool IsLocal => false;

    /// <summary>Without a pinned signer or trusted roots every release is refused: a response that cannot be authenticated is not used.</summary>
    public Task<KeyReleaseSignerTrust> SignerTrustAsync(CancellationToken cancellationToken)
    {
        if (signerPem is null && trustedRootsPem is null)
        {
            throw new JobRefusalException("release.signer_unknown",
                "key release refused: no Key Vault signer is trusted (pass --key-vault-roots FILE and/or --key-vault-signer FILE)");
        }

        var trust = KeyReleaseSignerTrust.FromPem(signerPem, trustedRootsPem);
        return trust.IsSuccess
            ? Task.FromResult(trust.Value)
            : throw new JobRefusalException(trust.ErrorCode, "key release refused: " + trust.Reason);
    }

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

using Azure.Core;

namespace CleanRoom.KeyRelease;

/// <summary>Options of <see cref="KeyVaultKeyReleaseClient"/>.</summary>
public sealed class KeyVaultKeyReleaseClientOptions : ClientOptions
{
    /// <summary>Token scope of Azure Key Vault.</summary>
    public const string KeyVaultScope = "https://vault.azure.net/.default";

    /// <summary>Token scope of Azure Managed HSM.</summary>
    public const string ManagedHsmScope = "https://managedhsm.azure.net/.default";

    /// <summary>The Key Vault API version of the release operation.</summary>
    public const string DefaultApiVersion = "7.4";

    /// <summary>The <c>api-version</c> query value.</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>
    /// The token scope. Null (the default) picks <see cref="ManagedHsmScope"/> for hosts under
    /// <c>.managedhsm.azure.net</c> and <see cref="KeyVaultScope"/> otherwise.
    /// </summary>
    public string? Scope { get; set; }
}

using Azure.Core;

namespace CleanRoom.KeyRelease;

/// <summary>Options of <see cref="AzureAttestationClient"/>; retries, transport and diagnostics come from <see cref="ClientOptions"/>.</summary>
public sealed class AzureAttestationClientOptions : ClientOptions
{
    /// <summary>Token scope of Microsoft Azure Attestation.</summary>
    public const string DefaultScope = "https://attest.azure.net/.default";

    /// <summary>The MAA API version that defines the SevSnpVm attest call used here.</summary>
    public const string DefaultApiVersion = "2022-08-01";

    /// <summary>The <c>api-version</c> query value.</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>The token scope requested from the credential.</summary>
    public string Scope { get; set; } = DefaultScope;
}

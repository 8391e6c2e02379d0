// Azure Key Vault / Managed HSM REST, "Release" (api-version 7.4):
//   POST {vault}/keys/{name}/{version}/release?api-version=7.4   (version omitted → /keys/{name}/release)
//   {"target": "<MAA JWT>", "nonce": "…", "enc": "CKM_RSA_AES_KEY_WRAP" | "RSA_AES_KEY_WRAP_256" | "RSA_AES_KEY_WRAP_384"}
//   → {"value": "<JWS>"}; see KeyReleaseResponse for the JWS and KeyHsmEnvelope for key_hsm.
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>Releases an exportable key from Azure Key Vault or Managed HSM to an attested environment.</summary>
public sealed partial class KeyVaultKeyReleaseClient
{
    private const string Service = "Key Vault";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _vaultUri;
    private readonly string _apiVersion;

    /// <summary>Creates a client for a vault (<c>https://{name}.vault.azure.net</c>) or Managed HSM (<c>https://{name}.managedhsm.azure.net</c>).</summary>
    public KeyVaultKeyReleaseClient(Uri vaultUri, TokenCredential credential, KeyVaultKeyReleaseClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        _vaultUri = EndpointGuard.RequireHttps(vaultUri, nameof(vaultUri));
        options ??= new KeyVaultKeyReleaseClientOptions();
        _apiVersion = options.ApiVersion;
        Scope = options.Scope ?? DefaultScopeFor(_vaultUri);
        _pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, Scope));
    }

    /// <summary>The token scope in use.</summary>
    public string Scope { get; }

    /// <summary>
    /// Asks the vault to release <paramref name="keyName"/> to the environment the attestation
    /// token describes; returns the JWS, to be checked with <see cref="KeyReleaseResponse.Verify"/>.
    /// </summary>
    public async Task<Response<string>> ReleaseAsync(string keyName, string? keyVersion, string attestationToken, string? nonce,
        KeyWrapAlgorithm enc, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(keyName) || !KeyName().IsMatch(keyName))
        {
            throw new ArgumentException("A key name is 1-127 letters, digits and dashes.", nameof(keyName));
        }

        if (!string.IsNullOrEmpty(keyVersion) && !KeyVersion().IsMatch(keyVersion))
        {
            throw new ArgumentException("A key version is letters and digits only.", nameof(keyVersion));
        }

        var body = new ReleaseRequest(attestationToken, nonce, enc).ToUtf8Json();
        var path = EndpointGuard.BasePath(_vaultUri) + "/keys/" + keyName + (string.IsNullOrEmpty(keyVersion) ? string.Empty : "/" + keyVersion) + "/release";
        return await AzureRestCall.PostAsync(_pipeline, uri =>
        {
            uri.Reset(_vaultUri);
            uri.Path = path;
            uri.AppendQuery("api-version", _apiVersion, escapeValue: true);
        }, body, "value", Service, attestationToken, cancellationToken).ConfigureAwait(false);
    }

    private static string DefaultScopeFor(Uri vaultUri) =>
        vaultUri.Host.EndsWith(".managedhsm.azure.net", StringComparison.OrdinalIgnoreCase)
            ? KeyVaultKeyReleaseClientOptions.ManagedHsmScope
            : KeyVaultKeyReleaseClientOptions.KeyVaultScope;

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$")]
    private static partial Regex KeyName();

    [GeneratedRegex("^[0-9A-Za-z]{1,64}$")]
    private static partial Regex KeyVersion();
}

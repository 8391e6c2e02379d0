using Azure.Core;

namespace CleanRoom.KeyRelease.Tests.Wire;

public sealed class KeyVaultKeyReleaseClientTests : IAsyncLifetime
{
    private const string Attestation = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2EifQ.c2lnbmF0dXJl";
    private const string Policy = """{"version":"1.0.0","anyOf":[{"authority":"https://sharedeus.eus.attest.azure.net","allOf":[{"claim":"x-ms-attestation-type","equals":"sevsnpvm"}]}]}""";

    private LoopbackAzureServer _server = null!;
    private readonly FixedTokenCredential _credential = new();

    public async Task InitializeAsync()
    {
        _server = await LoopbackAzureServer.StartAsync();
        _server.Handler = VaultSpeaks;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private KeyVaultKeyReleaseClient Client(string? scope = null)
    {
        var options = new KeyVaultKeyReleaseClientOptions { Transport = _server.CreateTransport(), Scope = scope };
        options.Retry.MaxRetries = 0;
        return new KeyVaultKeyReleaseClient(_server.BaseUri, _credential, options);
    }

    /// <summary>
    /// The fake vault: checks path, api-version, bearer and body, then releases a real KEK record
    /// to the token claims of <see cref="TestKeys.TokenClaims"/> and signs with the broker key.
    /// </summary>
    private static (int, string) VaultSpeaks(RecordedRequest request) => VaultSpeaks(request, released => released.Sign(TestKeys.Broker, "broker-1"));

    /// <summary>The fake vault, signing the release response with <paramref name="sign"/>.</summary>
    private static (int, string) VaultSpeaks(RecordedRequest request, Func<KeyReleaseResponse, string> sign)
    {
        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (request.Method != "POST" || request.ApiVersion != "7.4" || segments.Length is < 3 or > 4
            || segments[0] != "keys" || segments[^1] != "release")
        {
            return (404, """{"error":{"code":"NotFound","message":"no such operation"}}""");
        }

        if (request.Authorization != "Bearer " + FixedTokenCredential.Token)
        {
            return (401, """{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}""");
        }

        var parsed = ReleaseRequest.Parse(request.Body);
        if (!parsed.IsSuccess)
        {
            return (400, """{"error":{"code":"BadParameter","message":"bad body"}}""");
        }

        var kid = $"https://vault.local/keys/{segments[1]}/{(segments.Length == 4 ? segments[2] : "latest")}";
        var record = ExportableKeyRecord.CreateExportable(kid, TestKeys.Kek, Policy, immutable: true, DateTimeOffset.UnixEpoch).Value!;
        var released = record.Release(TestKeys.TokenClaims(), parsed.Value);
        if (!released.IsSuccess)
        {
            return (403, """{"error":{"code":"Forbidden","message":"Target environment attestation statement cannot be verified."}}""");
        }

        return (200, $$"""{"value":"{{sign(released.Value)}}"}""");
    }

    [Fact]
    public async Task Release_posts_the_key_vault_wire_format_and_the_jws_opens_in_the_enclave()
    {
        var response = await Client().ReleaseAsync("kek-1", "0123abcd", Attestation, "n-42", KeyWrapAlgorithm.RsaAesKeyWrap256);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/keys/kek-1/0123abcd/release", request.Path);
        Assert.Equal("?api-version=7.4", request.Query);
        Assert.Equal("Bearer fixed-test-access-token", request.Authorization);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal($$"""{"target":"{{Attestation}}","nonce":"n-42","enc":"RSA_AES_KEY_WRAP_256"}""", request.Body);
        Assert.Equal([KeyVaultKeyReleaseClientOptions.KeyVaultScope], _credential.Scopes.Distinct());

        var verified = KeyReleaseResponse.Verify(response.Value, TestKeys.Broker, "n-42");
        Assert.True(verified.IsSuccess, verified.Reason);
        Assert.Equal("https://vault.local/keys/kek-1/0123abcd", verified.Value.Kid);
        using var opened = KeyHsmEnvelope.TryOpen(verified.Value.KeyHsm, TestKeys.Enclave);
        Assert.True(RsaTargetKey.TryImport(opened.Key, out var kek));
        using (kek)
        {
            Assert.Equal(TestKeys.Kek.ExportParameters(false).Modulus, kek.ExportParameters(false).Modulus);
        }
    }

    [Fact]
    public async Task A_release_signed_with_the_vaults_x5c_chain_verifies_under_its_root_and_no_other()
    {
        using var pki = TestPki.Create("Vault");
        using var leaf = pki.IssueLeaf(TestKeys.Broker);
        _server.Handler = request => VaultSpeaks(request, released => released.Sign(TestKeys.Broker, certificateChain: pki.ChainFor(leaf)));

        var response = await Client().ReleaseAsync("kek-1", "0123abcd", Attestation, "n-42", KeyWrapAlgorithm.RsaAesKeyWrap256);

        using (var trusted = KeyReleaseSignerTrust.FromPem(null, pki.RootPem).Value!)
        {
            var verified = KeyReleaseResponse.Verify(response.Value, trusted, "n-42", DateTimeOffset.UtcNow);
            Assert.True(verified.IsSuccess, verified.Reason);
            using var opened = KeyHsmEnvelope.TryOpen(verified.Value.KeyHsm, TestKeys.Enclave);
            Assert.True(opened.IsSuccess, opened.Reason);
        }

        using var stranger = TestPki.Create("Stranger");
        using var strangerTrust = KeyReleaseSignerTrust.FromPem(null, stranger.RootPem).Value!;
        Assert.Equal(KeyReleaseErrorCodes.ResponseCertificateChainUntrusted,
            KeyReleaseResponse.Verify(response.Value, strangerTrust, "n-42", DateTimeOffset.UtcNow).ErrorCode);
    }

    [Fact]
    public async Task Release_without_a_version_uses_the_versionless_path()
    {
        await Client().ReleaseAsync("kek-1", null, Attestation, null, KeyWrapAlgorithm.CkmRsaAesKeyWrap);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("/keys/kek-1/release", request.Path);
        Assert.Equal($$"""{"target":"{{Attestation}}","enc":"CKM_RSA_AES_KEY_WRAP"}""", request.Body);
    }

    [Fact]
    public async Task Forbidden_maps_to_one_exception_with_status_and_code_and_no_token()
    {
        _server.Handler = _ => (403, "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Target environment attestation statement cannot be verified: " + Attestation + "\",\"innererror\":{\"code\":\"AccessDenied\"}}}");
        var error = await Assert.ThrowsAsync<KeyReleaseException>(() =>
            Client().ReleaseAsync("kek-1", "v1", Attestation, "n", KeyWrapAlgorithm.RsaAesKeyWrap384));
        Assert.Equal(403, error.Status);
        Assert.Equal("Forbidden", error.ErrorCode);
        Assert.Equal("AccessDenied", error.InnerErrorCode);
        Assert.Equal("Key Vault", error.Service);
        Assert.Contains("cannot be verified", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Attestation, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FixedTokenCredential.Token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Error_without_a_json_body_still_carries_the_status()
    {
        _server.Handler = _ => (502, "<html>bad gateway</html>");
        var error = await Assert.ThrowsAsync<KeyReleaseException>(() =>
            Client().ReleaseAsync("kek-1", "v1", Attestation, "n", KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.Equal(502, error.Status);
        Assert.Null(error.ErrorCode);
        Assert.True(error.IsTransient);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"value":""}""")]
    [InlineData("""{"key":{}}""")]
    public async Task Malformed_success_body_maps_to_malformed_response(string body)
    {
        _server.Handler = _ => (200, body);
        var error = await Assert.ThrowsAsync<KeyReleaseException>(() =>
            Client().ReleaseAsync("kek-1", "v1", Attestation, "n", KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.Equal(KeyReleaseException.MalformedResponseCode, error.ErrorCode);
    }

    [Fact]
    public async Task Scope_is_configurable_for_managed_hsm()
    {
        await Client(KeyVaultKeyReleaseClientOptions.ManagedHsmScope).ReleaseAsync("kek-1", "v1", Attestation, null, KeyWrapAlgorithm.RsaAesKeyWrap256);
        Assert.Equal([KeyVaultKeyReleaseClientOptions.ManagedHsmScope], _credential.Scopes.Distinct());
    }

    [Fact]
    public void Managed_hsm_hosts_default_to_the_managed_hsm_scope()
    {
        Assert.Equal(KeyVaultKeyReleaseClientOptions.ManagedHsmScope,
            new KeyVaultKeyReleaseClient(new Uri("https://contoso.managedhsm.azure.net"), _credential).Scope);
        Assert.Equal(KeyVaultKeyReleaseClientOptions.KeyVaultScope,
            new KeyVaultKeyReleaseClient(new Uri("https://contoso.vault.azure.net/"), _credential).Scope);
    }

    [Theory]
    [InlineData("../secrets/x", "v1")]
    [InlineData("kek", "v1/../../x")]
    [InlineData("", "v1")]
    public async Task Names_that_would_escape_the_path_are_refused(string name, string version)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client().ReleaseAsync(name, version, Attestation, null, KeyWrapAlgorithm.RsaAesKeyWrap256));
        Assert.Empty(_server.Requests);
    }
}

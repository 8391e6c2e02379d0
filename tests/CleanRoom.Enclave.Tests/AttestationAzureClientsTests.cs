using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using CleanRoom.Attestation;
using CleanRoom.Core;
using CleanRoom.KeyRelease;
using CleanRoom.KeyRelease.Tests;

namespace CleanRoom.Enclave.Tests;

/// <summary>
/// The enclave's Azure adapters over the real Azure.Core pipelines, answered in memory by a handler
/// that speaks the MAA and Key Vault wire formats (TLS and DefaultAzureCredential are not exercised
/// here; the KeyRelease wire tests cover the clients over loopback HTTPS).
/// </summary>
public sealed class AttestationAzureClientsTests
{
    private static readonly Uri s_maa = new("https://cleanroom-test.eus.attest.azure.net");
    private static readonly Uri s_vault = new("https://cleanroom-test.vault.azure.net");

    [Fact]
    public async Task Attestation_through_the_maa_adapter_carries_the_enclaves_nonce_and_passes_its_token_check()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var policy = SimulatedPolicy();
        using var authority = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer);
        var seen = new List<string>();
        using var handler = new WireHandler(request =>
        {
            seen.Add(request.RequestUri!.PathAndQuery);
            if (request.RequestUri.AbsolutePath == "/certs")
            {
                return (HttpStatusCode.OK, authority.JwksJson);
            }

            using var body = JsonDocument.Parse(request.Content!.ReadAsStringAsync().Result);
            using var inner = JsonDocument.Parse(Hashing.FromB64Url(body.RootElement.GetProperty("report").GetString()!));
            var result = authority.Attest(new SnpAttestRequest
            {
                Report = Hashing.FromB64Url(inner.RootElement.GetProperty("SnpReport").GetString()!),
                VcekCertChainPem = Encoding.UTF8.GetString(Hashing.FromB64Url(inner.RootElement.GetProperty("VcekCertChain").GetString()!)),
                RuntimeData = Hashing.FromB64Url(body.RootElement.GetProperty("runtimeData").GetProperty("data").GetString()!),
                Nonce = body.RootElement.GetProperty("nonce").GetString(),
            });
            return (HttpStatusCode.OK, JsonSerializer.Serialize(new { token = result.Token }));
        });
        var client = new AzureAttestationClient(s_maa, new StaticCredential(), new AzureAttestationClientOptions { Transport = new HttpClientTransport(handler) });
        using var http = new HttpClient(handler, disposeHandler: false);
        using var keys = new EnclaveKeys();
        var attestation = new EnclaveAttestation(new SimulatedEvidenceSource(platform), new AzureEnclaveAttestationClient(client, s_maa, http), policy.Issuer, TimeProvider.System);

        var token = await attestation.AttestAsync(keys, "enclave-nonce-1", default);

        Assert.False(string.IsNullOrEmpty(token));
        Assert.Equal(["/attest/SevSnpVm?api-version=2022-08-01", "/certs"], seen);
    }

    [Fact]
    public async Task Maa_refusal_becomes_a_job_refusal()
    {
        using var handler = new WireHandler(_ => (HttpStatusCode.BadRequest, """{"error":{"code":"InvalidParameter","message":"bad report"}}"""));
        var client = new AzureAttestationClient(s_maa, new StaticCredential(), new AzureAttestationClientOptions { Transport = new HttpClientTransport(handler), Retry = { MaxRetries = 0 } });
        using var http = new HttpClient(handler, disposeHandler: false);
        var adapter = new AzureEnclaveAttestationClient(client, s_maa, http);

        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => adapter.AttestAsync(new AttestationEvidence(new byte[1184], "pem"), "{}"u8.ToArray(), "n", default));

        Assert.Equal("attest.maa_refused", ex.Code);
        Assert.Contains("400", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_vault_adapter_posts_the_release_and_maps_a_denial_to_a_job_refusal()
    {
        string? path = null, body = null;
        using var handler = new WireHandler(request =>
        {
            path = request.RequestUri!.PathAndQuery;
            body = request.Content!.ReadAsStringAsync().Result;
            return path.Contains("/denied/", StringComparison.Ordinal)
                ? (HttpStatusCode.Forbidden, """{"error":{"code":"Forbidden","message":"Target environment attestation statement cannot be verified."}}""")
                : (HttpStatusCode.OK, """{"value":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}""");
        });
        var client = new KeyVaultKeyReleaseClient(s_vault, new StaticCredential(), new KeyVaultKeyReleaseClientOptions { Transport = new HttpClientTransport(handler), Retry = { MaxRetries = 0 } });
        var adapter = new AzureEnclaveKeyReleaseClient(client, signerPem: null, trustedRootsPem: null);

        Assert.Equal("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", await adapter.ReleaseAsync("dataset-kek", "0123abcd", "the.attestation.token", "release-nonce", default));
        Assert.Equal("/keys/dataset-kek/0123abcd/release?api-version=7.4", path);
        using (var doc = JsonDocument.Parse(body!))
        {
            Assert.Equal("the.attestation.token", doc.RootElement.GetProperty("target").GetString());
            Assert.Equal("release-nonce", doc.RootElement.GetProperty("nonce").GetString());
        }

        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => adapter.ReleaseAsync("denied", "0123abcd", "the.attestation.token", "n", default));
        Assert.Equal("release.key_vault_refused", ex.Code);
        Assert.DoesNotContain("the.attestation.token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_vault_release_without_a_pinned_signer_or_trusted_roots_is_refused()
    {
        var client = new KeyVaultKeyReleaseClient(s_vault, new StaticCredential());
        var unpinned = new AzureEnclaveKeyReleaseClient(client, signerPem: null, trustedRootsPem: null);
        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => unpinned.SignerTrustAsync(default));
        Assert.Equal("release.signer_unknown", ex.Code);
        Assert.Contains("--key-vault-roots", ex.Message, StringComparison.Ordinal);

        using var rsa = RSA.Create(2048);
        using (var pinned = await new AzureEnclaveKeyReleaseClient(client, rsa.ExportSubjectPublicKeyInfoPem(), null).SignerTrustAsync(default))
        {
            Assert.Equal(rsa.ExportParameters(false).Modulus, pinned.PinnedSigner!.ExportParameters(false).Modulus);
            Assert.False(pinned.RequiresCertificateChain);
        }

        using var pki = TestPki.Create();
        using var rooted = await new AzureEnclaveKeyReleaseClient(client, null, pki.RootPem).SignerTrustAsync(default);
        Assert.Null(rooted.PinnedSigner);
        Assert.Equal(pki.Root.RawData, Assert.Single(rooted.TrustedRoots).RawData);
    }

    [Fact]
    public async Task The_azure_release_path_accepts_a_response_signed_under_the_configured_root_and_refuses_one_that_is_not()
    {
        using var vaultPki = TestPki.Create("Key Vault");
        using var strangerPki = TestPki.Create("Stranger");
        using var vaultKey = RSA.Create(2048);
        using var vaultLeaf = vaultPki.IssueLeaf(vaultKey);
        using var strangerLeaf = strangerPki.IssueLeaf(vaultKey);
        using var enclaveKey = RSA.Create(3072);
        var signingChain = vaultPki.ChainFor(vaultLeaf);
        using var handler = new WireHandler(request =>
        {
            // Key Vault's answer: a release JWS signed by its certificate, the chain in the x5c header.
            using var body = JsonDocument.Parse(request.Content!.ReadAsStringAsync().Result);
            var kid = "https://cleanroom-test.vault.azure.net" + request.RequestUri!.AbsolutePath.Replace("/release", string.Empty, StringComparison.Ordinal);
            var released = new KeyReleaseResponse
            {
                Kid = kid,
                KeyHsm = KeyHsmEnvelope.Create([9, 8, 7, 6], enclaveKey, kid, KeyWrapAlgorithm.RsaAesKeyWrap256),
                Enc = KeyWrapAlgorithm.RsaAesKeyWrap256,
                Nonce = body.RootElement.GetProperty("nonce").GetString(),
            };
            return (HttpStatusCode.OK, JsonSerializer.Serialize(new { value = released.Sign(vaultKey, certificateChain: signingChain) }));
        });
        var client = new KeyVaultKeyReleaseClient(s_vault, new StaticCredential(), new KeyVaultKeyReleaseClientOptions { Transport = new HttpClientTransport(handler), Retry = { MaxRetries = 0 } });
        using var enclave = new EnclaveServerClient(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9/") })
        {
            Token = "the.attestation.token",
            KeyRelease = new AzureEnclaveKeyReleaseClient(client, signerPem: null, trustedRootsPem: vaultPki.RootPem),
        };

        var accepted = await enclave.ReleaseVerifiedKeyAsync("dataset-kek", "0123abcd", "release-nonce-1", DateTimeOffset.UtcNow, default);

        Assert.True(accepted.IsSuccess, accepted.Reason);
        using (var opened = KeyHsmEnvelope.TryOpen(accepted.Value.KeyHsm, enclaveKey))
        {
            Assert.Equal(new byte[] { 9, 8, 7, 6 }, opened.Key.ToArray());
        }

        signingChain = strangerPki.ChainFor(strangerLeaf);
        var refused = await enclave.ReleaseVerifiedKeyAsync("dataset-kek", "0123abcd", "release-nonce-2", DateTimeOffset.UtcNow, default);

        Assert.False(refused.IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.ResponseCertificateChainUntrusted, refused.ErrorCode);
        Assert.Contains("x5c chain does not build to a configured trusted root", refused.Reason, StringComparison.Ordinal);
    }

    private static AttestationPolicy SimulatedPolicy()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "CleanRoom.sln")))
        {
            dir = dir.Parent;
        }

        return AttestationPolicy.Load(Path.Combine(dir.FullName, "attestation-policies", "simulated.json")).Policy!;
    }

    private sealed class StaticCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new("test-access-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(GetToken(requestContext, cancellationToken));
    }

    /// <summary>Answers requests in memory, as the Azure service would over the wire.</summary>
    private sealed class WireHandler(Func<HttpRequestMessage, (HttpStatusCode Status, string Body)> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var (status, body) = answer(request);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json"), RequestMessage = request });
        }
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CleanRoom.KeyRelease.Tests;

/// <summary>
/// Release responses signed the way Key Vault signs them: RS256 with the signing certificate chain in
/// the protected header (x5c, x5t#S256), validated to a root CA made at test time.
/// </summary>
public sealed class KeyReleaseResponseChainTests
{
    private static readonly Lazy<TestPki> s_pki = new(() => TestPki.Create());
    private static readonly Lazy<X509Certificate2> s_leaf = new(() => Pki.IssueLeaf(TestKeys.Broker));

    private static TestPki Pki => s_pki.Value;

    /// <summary>A good leaf for <see cref="TestKeys.Broker"/> under <see cref="Pki"/>'s intermediate.</summary>
    private static X509Certificate2 Leaf => s_leaf.Value;

    private static KeyReleaseResponse Sample() => new()
    {
        Kid = "https://vault.local/keys/kek/v1",
        KeyHsm = KeyHsmEnvelope.Create([1, 2, 3, 4], TestKeys.Enclave, "https://vault.local/keys/kek/v1", KeyWrapAlgorithm.RsaAesKeyWrap256),
        Enc = KeyWrapAlgorithm.RsaAesKeyWrap256,
        Nonce = "n-1",
    };

    private static KeyReleaseSignerTrust Roots(string? pinnedPem = null) => KeyReleaseSignerTrust.FromPem(pinnedPem, Pki.RootPem).Value!;

    private static KeyReleaseResult<KeyReleaseResponse> Verify(string jws, string? pinnedPem = null, DateTimeOffset? at = null)
    {
        using var trust = Roots(pinnedPem);
        return KeyReleaseResponse.Verify(jws, trust, "n-1", at ?? DateTimeOffset.UtcNow);
    }

    private static string X5c(params X509Certificate2[] chain) =>
        string.Join(",", chain.Select(c => $"\"{Convert.ToBase64String(c.RawData)}\""));

    private static string Payload(string jws) => Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(jws.Split('.')[1]));

    private static void AssertRefused(KeyReleaseResult<KeyReleaseResponse> result, string code, string jws)
    {
        Assert.False(result.IsSuccess);
        Assert.Equal(code, result.ErrorCode);
        Assert.StartsWith("Release response refused: ", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(jws.Split('.')[2], result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_signed_by_a_leaf_under_a_trusted_root_verifies()
    {
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(Leaf));

        var result = Verify(jws);

        Assert.True(result.IsSuccess, result.Reason);
        Assert.Equal("https://vault.local/keys/kek/v1", result.Value.Kid);
        using var opened = KeyHsmEnvelope.TryOpen(result.Value.KeyHsm, TestKeys.Enclave);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, opened.Key.ToArray());
    }

    [Fact]
    public void A_chain_that_also_carries_the_root_verifies()
    {
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [Leaf, Pki.Intermediate, Pki.Root]);
        Assert.True(Verify(jws).IsSuccess);
    }

    [Fact]
    public void A_chain_to_an_unknown_root_is_refused()
    {
        using var stranger = TestPki.Create("Stranger");
        using var leaf = stranger.IssueLeaf(TestKeys.Broker);
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [leaf, stranger.Intermediate, stranger.Root]);

        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateChainUntrusted, jws);
    }

    [Fact]
    public void A_self_signed_leaf_not_among_the_roots_is_refused()
    {
        using var selfSigned = TestPki.SelfSigned(TestKeys.Broker);
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [selfSigned]);

        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateChainUntrusted, jws);
    }

    [Fact]
    public void A_leaf_without_its_intermediate_is_refused()
    {
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [Leaf]);
        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateChainUntrusted, jws);
    }

    [Fact]
    public void An_expired_leaf_is_refused()
    {
        using var expired = Pki.IssueLeaf(TestKeys.Broker, Pki.Now.AddDays(-30), Pki.Now.AddDays(-1));
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(expired));

        var result = Verify(jws);

        AssertRefused(result, KeyReleaseErrorCodes.ResponseCertificateNotTimeValid, jws);
        Assert.Contains("leaf certificate expired", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leaf_that_is_not_yet_valid_is_refused()
    {
        using var early = Pki.IssueLeaf(TestKeys.Broker, Pki.Now.AddDays(1), Pki.Now.AddDays(30));
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(early));

        var result = Verify(jws);

        AssertRefused(result, KeyReleaseErrorCodes.ResponseCertificateNotTimeValid, jws);
        Assert.Contains("leaf certificate is not valid before", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_chain_is_checked_at_the_given_verification_time()
    {
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(Leaf));

        Assert.True(Verify(jws, at: Pki.Now.AddMonths(6)).IsSuccess);
        AssertRefused(Verify(jws, at: Pki.Now.AddYears(2)), KeyReleaseErrorCodes.ResponseCertificateNotTimeValid, jws);
        AssertRefused(Verify(jws, at: Pki.Now.AddDays(-2)), KeyReleaseErrorCodes.ResponseCertificateNotTimeValid, jws);
    }

    [Fact]
    public void A_tampered_payload_is_refused()
    {
        var parts = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(Leaf)).Split('.');
        var payload = Payload(string.Join('.', parts)).Replace("\"n-1\"", "\"n-1\",\"x\":1", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{TestKeys.B64(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";

        AssertRefused(Verify(tampered), KeyReleaseErrorCodes.ResponseSignatureInvalid, tampered);
    }

    [Fact]
    public void A_response_signed_by_a_key_other_than_the_leafs_is_refused()
    {
        var jws = Sample().Sign(TestKeys.Other, certificateChain: Pki.ChainFor(Leaf));

        var result = Verify(jws);

        AssertRefused(result, KeyReleaseErrorCodes.ResponseSignatureInvalid, jws);
        Assert.Contains("x5c leaf", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_x5t_S256_that_is_not_the_leafs_thumbprint_is_refused()
    {
        var wrongThumbprint = TestKeys.B64(SHA256.HashData(Pki.Intermediate.RawData));
        var jws = new JwsTestSigner(TestKeys.Broker).Sign(
            $$"""{"alg":"RS256","x5t#S256":"{{wrongThumbprint}}","x5c":[{{X5c(Leaf, Pki.Intermediate)}}]}""", Payload(Sample().Sign(TestKeys.Broker, "k")));

        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateThumbprintMismatch, jws);
    }

    [Fact]
    public void A_chain_without_x5t_S256_is_accepted_on_the_chain_alone()
    {
        var jws = new JwsTestSigner(TestKeys.Broker).Sign(
            $$"""{"alg":"RS256","x5c":[{{X5c(Leaf, Pki.Intermediate)}}]}""", Payload(Sample().Sign(TestKeys.Broker, "k")));

        Assert.True(Verify(jws).IsSuccess);
    }

    [Fact]
    public void A_leaf_whose_key_usage_lacks_digital_signature_is_refused()
    {
        using var encipherOnly = Pki.IssueLeaf(TestKeys.Broker, usage: X509KeyUsageFlags.KeyEncipherment);
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(encipherOnly));

        var result = Verify(jws);

        AssertRefused(result, KeyReleaseErrorCodes.ResponseCertificateNotForSigning, jws);
        Assert.Contains("digitalSignature", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leaf_with_an_rsa_key_under_2048_bits_is_refused()
    {
        using var weakKey = RSA.Create(1024);
        using var weak = Pki.IssueLeaf(weakKey);
        var jws = Sample().Sign(weakKey, certificateChain: Pki.ChainFor(weak));

        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateNotForSigning, jws);
    }

    [Theory]
    [InlineData("""{"alg":"RS256","kid":"k"}""")]
    [InlineData("""{"alg":"RS256","x5c":[]}""")]
    [InlineData("""{"alg":"RS256","x5c":null}""")]
    public void A_response_without_an_x5c_chain_is_refused(string header)
    {
        var jws = new JwsTestSigner(TestKeys.Broker).Sign(header, Payload(Sample().Sign(TestKeys.Broker, "k")));
        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateChainMissing, jws);
    }

    [Theory]
    [InlineData("\"MIIB\"")]
    [InlineData("[\"!!not base64!!\"]")]
    [InlineData("[\"LEAF-as-base64url\"]")]
    [InlineData("[\"AAAA\"]")]
    [InlineData("[\"MAA=\"]")]
    [InlineData("[\"TWFu IGlz\"]")]
    [InlineData("[5]")]
    [InlineData("ELEVEN")]
    public void Garbage_in_x5c_is_refused(string x5c)
    {
        x5c = x5c switch
        {
            "ELEVEN" => "[" + string.Join(",", Enumerable.Repeat($"\"{Convert.ToBase64String(Leaf.RawData)}\"", 11)) + "]",
            "[\"LEAF-as-base64url\"]" => $"[\"{TestKeys.B64(Leaf.RawData)}\"]",
            _ => x5c,
        };
        var jws = new JwsTestSigner(TestKeys.Broker).Sign($$"""{"alg":"RS256","x5c":{{x5c}}}""", Payload(Sample().Sign(TestKeys.Broker, "k")));

        AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseCertificateChainMalformed, jws);
    }

    [Fact]
    public void Alg_none_is_refused_even_with_a_good_chain()
    {
        var payload = Payload(Sample().Sign(TestKeys.Broker, "k"));
        var header = $$"""{"alg":"none","x5c":[{{X5c(Leaf, Pki.Intermediate)}}]}""";
        var unsigned = $"{TestKeys.B64(Encoding.UTF8.GetBytes(header))}.{TestKeys.B64(Encoding.UTF8.GetBytes(payload))}.";

        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid, Verify(unsigned).ErrorCode);
        var withSignature = unsigned + TestKeys.B64([0]);
        AssertRefused(Verify(withSignature), KeyReleaseErrorCodes.ResponseSignatureInvalid, withSignature);
    }

    [Fact]
    public void Hs256_keyed_with_the_leafs_public_key_is_refused()
    {
        var payload = Payload(Sample().Sign(TestKeys.Broker, "k"));
        var header = $$"""{"alg":"HS256","x5c":[{{X5c(Leaf, Pki.Intermediate)}}]}""";
        var input = $"{TestKeys.B64(Encoding.UTF8.GetBytes(header))}.{TestKeys.B64(Encoding.UTF8.GetBytes(payload))}";
        using var leafKey = Leaf.GetRSAPublicKey()!;
        foreach (var secret in new[] { leafKey.ExportSubjectPublicKeyInfo(), Encoding.ASCII.GetBytes(leafKey.ExportSubjectPublicKeyInfoPem()), Leaf.RawData })
        {
            var jws = input + "." + TestKeys.B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
            AssertRefused(Verify(jws), KeyReleaseErrorCodes.ResponseSignatureInvalid, jws);
        }
    }

    [Fact]
    public void With_a_pinned_signer_and_roots_the_leaf_must_carry_the_pinned_key()
    {
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: Pki.ChainFor(Leaf));

        Assert.True(Verify(jws, pinnedPem: TestKeys.Broker.ExportSubjectPublicKeyInfoPem()).IsSuccess);
        Assert.True(Verify(jws, pinnedPem: Leaf.ExportCertificatePem()).IsSuccess);
        AssertRefused(Verify(jws, pinnedPem: TestKeys.Other.ExportSubjectPublicKeyInfoPem()), KeyReleaseErrorCodes.ResponseSignerNotPinned, jws);
    }

    [Fact]
    public void With_a_pinned_signer_and_roots_a_response_signed_by_the_pinned_key_without_a_chain_is_refused()
    {
        var jws = Sample().Sign(TestKeys.Broker, "k");
        AssertRefused(Verify(jws, pinnedPem: TestKeys.Broker.ExportSubjectPublicKeyInfoPem()), KeyReleaseErrorCodes.ResponseCertificateChainMissing, jws);
    }

    [Fact]
    public void With_only_a_pinned_signer_the_x5c_header_is_not_consulted()
    {
        using var stranger = TestPki.SelfSigned(TestKeys.Broker);
        var jws = Sample().Sign(TestKeys.Broker, certificateChain: [stranger]);
        using var pinned = KeyReleaseSignerTrust.FromPem(TestKeys.Broker.ExportSubjectPublicKeyInfoPem(), null).Value!;

        Assert.False(pinned.RequiresCertificateChain);
        Assert.True(KeyReleaseResponse.Verify(jws, pinned, "n-1", DateTimeOffset.UtcNow).IsSuccess);
        Assert.Equal(KeyReleaseErrorCodes.ResponseSignatureInvalid,
            KeyReleaseResponse.Verify(Sample().Sign(TestKeys.Other, "k"), pinned, "n-1", DateTimeOffset.UtcNow).ErrorCode);
    }

    [Fact]
    public void Signer_trust_needs_something_usable_to_trust()
    {
        using var smallKey = RSA.Create(1024);
        Assert.Equal(KeyReleaseErrorCodes.SignerTrustInvalid, KeyReleaseSignerTrust.FromPem(null, null).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.SignerTrustInvalid, KeyReleaseSignerTrust.FromPem(null, "no certificates here").ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.SignerTrustInvalid, KeyReleaseSignerTrust.FromPem(null, TestKeys.Broker.ExportSubjectPublicKeyInfoPem()).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.SignerTrustInvalid, KeyReleaseSignerTrust.FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", null).ErrorCode);
        Assert.Equal(KeyReleaseErrorCodes.SignerTrustInvalid, KeyReleaseSignerTrust.FromPem(smallKey.ExportSubjectPublicKeyInfoPem(), null).ErrorCode);

        using var both = KeyReleaseSignerTrust.FromPem(TestKeys.Broker.ExportSubjectPublicKeyInfoPem(), Pki.RootPem + "\n" + Pki.Intermediate.ExportCertificatePem()).Value!;
        Assert.NotNull(both.PinnedSigner);
        Assert.Equal(2, both.TrustedRoots.Count);
        Assert.True(both.RequiresCertificateChain);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.KeyRelease.Tests;

/// <summary>
/// A throwaway PKI made at test time, standing in for Key Vault's signing chain: root CA →
/// intermediate CA → leaf certificates (RSA-2048, SHA-256). Keys live only in memory and are never
/// written anywhere. Also compiled into CleanRoom.Enclave.Tests, so it uses nothing else of this project.
/// </summary>
internal sealed class TestPki : IDisposable
{
    private readonly RSA _rootKey;
    private readonly RSA _intermediateKey;

    private TestPki(string name)
    {
        Now = DateTimeOffset.UtcNow;
        _rootKey = RSA.Create(2048);
        _intermediateKey = RSA.Create(2048);

        var rootRequest = Request($"CN={name} Root CA", _rootKey);
        AddCaExtensions(rootRequest);
        Root = rootRequest.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(10));

        var intermediateRequest = Request($"CN={name} Intermediate CA", _intermediateKey);
        AddCaExtensions(intermediateRequest);
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        using var intermediate = intermediateRequest.Create(Root, Now.AddYears(-1), Now.AddYears(5), Serial());
        Intermediate = intermediate.CopyWithPrivateKey(_intermediateKey);
    }

    /// <summary>When the PKI was made; validity windows are relative to it.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>The root CA (with its private key).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>The intermediate CA that issues leaves (with its private key).</summary>
    public X509Certificate2 Intermediate { get; }

    /// <summary>The root as a one-certificate PEM bundle, as an operator would supply it.</summary>
    public string RootPem => Root.ExportCertificatePem();

    public static TestPki Create(string name = "CleanRoom Test") => new(name);

    /// <summary>
    /// A leaf for <paramref name="key"/> issued by the intermediate, valid from a day ago for a
    /// year unless told otherwise; key usage digitalSignature unless told otherwise.
    /// </summary>
    public X509Certificate2 IssueLeaf(RSA key, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null,
        X509KeyUsageFlags usage = X509KeyUsageFlags.DigitalSignature)
    {
        var request = Request("CN=Key Vault release signer (test)", key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Intermediate, true, false));
        return request.Create(Intermediate, notBefore ?? Now.AddDays(-1), notAfter ?? Now.AddYears(1), Serial());
    }

    /// <summary>The x5c order: leaf first, then the intermediate (the root is the verifier's to supply).</summary>
    public IReadOnlyList<X509Certificate2> ChainFor(X509Certificate2 leaf) => [leaf, Intermediate];

    /// <summary>A self-signed certificate for <paramref name="key"/> that no root vouches for.</summary>
    public static X509Certificate2 SelfSigned(RSA key)
    {
        var request = Request("CN=Self-signed release signer (test)", key);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
    }

    private static CertificateRequest Request(string subject, RSA key) =>
        new(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }
}

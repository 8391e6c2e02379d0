// A local stand-in for the AMD key hierarchy and secure processor (AMD pub. 57230 / 56860):
// ARK (RSA-4096, self-signed) → ASK (RSA-4096) → VCEK (ECDSA P-384), certificates signed with
// RSASSA-PSS SHA-384 (salt 48), VCEK extensions encoded as AMD encodes them; reports are
// version-3 ATTESTATION_REPORTs signed with ECDSA P-384/SHA-384. Everything says SIMULATED.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CleanRoom.Attestation.Internal;

namespace CleanRoom.Attestation;

/// <summary>
/// Simulated AMD hardware for local mode. Its reports pass the same parser and verifier as real
/// ones, but only when its ARK is explicitly trusted via <see cref="TrustedRoots"/>; the
/// production root set never contains it.
/// </summary>
public sealed class SimulatedAmdPlatform : IDisposable
{
    public const string ProductName = "Milan-B0";

    /// <summary>
    /// The issuer of attestation-policies/simulated.json: what a simulated-mode enclave pins when
    /// no policy file is named. No production policy uses it.
    /// </summary>
    public const string SimulatedIssuer = "https://simulated-attestation.cleanroom.invalid";
    public const string ArkFileName = "ark.pem";
    public const string AskFileName = "ask.pem";
    public const string VcekFileName = "vcek.pem";
    public const string VcekKeyFileName = "vcek.key.pem";

    private const string SubjectSuffix = "OU=SIMULATED - NOT AMD HARDWARE, O=CleanRoom Simulated AMD, C=ZZ";
    private const byte SimBootloader = 4;
    private const byte SimTee = 0;
    private const byte SimSnp = 22;
    private const byte SimMicrocode = 213;

    private readonly X509Certificate2 _ark;
    private readonly X509Certificate2 _ask;
    private readonly X509Certificate2 _vcek;
    private readonly ECDsa _vcekKey;
    private readonly byte[] _chipId;
    private readonly ulong _tcb;
    private bool _disposed;

    private SimulatedAmdPlatform(X509Certificate2 ark, X509Certificate2 ask, X509Certificate2 vcek, ECDsa vcekKey)
    {
        _ark = ark;
        _ask = ask;
        _vcek = vcek;
        _vcekKey = vcekKey;
        VcekExtensions ext = VcekExtensions.TryRead(vcek, out string? error)
            ?? throw new InvalidDataException($"simulated VCEK extensions are invalid: {error}");
        if (ext.HardwareId.Length != 64)
        {
            throw new InvalidDataException("simulated VCEK hwID must be 64 bytes");
        }

        _chipId = ext.HardwareId;
        _tcb = SnpTcb.EncodeMilanGenoa(ext.Bootloader, ext.Tee, ext.Snp, ext.Microcode);
    }

    /// <summary>SHA-384 of the ASCII string "cleanroom-simulated-launch-image/v1": the measurement the demo enclave reports.</summary>
    public static byte[] SimulatedLaunchMeasurement => SHA384.HashData(Encoding.ASCII.GetBytes("cleanroom-simulated-launch-image/v1"));

    /// <summary>The VCEK certificate, PEM.</summary>
    public string VcekPem => _vcek.ExportCertificatePem();

    /// <summary>ASK then ARK, PEM (the layout AMD's KDS serves as cert_chain).</summary>
    public string ChainPem => _ask.ExportCertificatePem() + "\n" + _ark.ExportCertificatePem() + "\n";

    /// <summary>VCEK, ASK, ARK, PEM (the MAA "VcekCertChain").</summary>
    public string CertChainPem => VcekPem + "\n" + ChainPem;

    public string ArkPem => _ark.ExportCertificatePem();

    /// <summary>SHA-256 of the ARK's DER encoding: the fingerprint to pin.</summary>
    public byte[] ArkSha256 => SHA256.HashData(_ark.RawData);

    /// <summary>A root set that trusts exactly this simulated ARK.</summary>
    public SnpTrustedRoots TrustedRoots => SnpTrustedRoots.Simulated(ArkSha256);

    public static SimulatedAmdPlatform Create(TimeProvider? timeProvider = null)
    {
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        DateTimeOffset notBefore = now.AddDays(-1);

        using RSA arkKey = RSA.Create(4096);
        var arkName = new X500DistinguishedName($"CN=ARK-Milan SIMULATED, {SubjectSuffix}");
        var arkRequest = new CertificateRequest(arkName, arkKey, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
        arkRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        arkRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 arkWithKey = arkRequest.Create(arkName, X509SignatureGenerator.CreateForRSA(arkKey, RSASignaturePadding.Pss), notBefore, now.AddYears(25), [0x01, 0x00, 0x00]);

        using RSA askKey = RSA.Create(4096);
        var askName = new X500DistinguishedName($"CN=SEV-Milan SIMULATED, {SubjectSuffix}");
        var askRequest = new CertificateRequest(askName, askKey, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
        askRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        askRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 ask = askRequest.Create(arkName, X509SignatureGenerator.CreateForRSA(arkKey, RSASignaturePadding.Pss), notBefore, now.AddYears(25), [0x01, 0x00, 0x01]);

        var vcekKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        try
        {
            var vcekName = new X500DistinguishedName($"CN=SEV-VCEK SIMULATED, {SubjectSuffix}");
            var vcekRequest = new CertificateRequest(vcekName, vcekKey, HashAlgorithmName.SHA384);
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.StructVersionOid, VcekExtensions.EncodeInteger(0), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.ProductNameOid, VcekExtensions.EncodeProductName(ProductName), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.BootloaderOid, VcekExtensions.EncodeInteger(SimBootloader), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.TeeOid, VcekExtensions.EncodeInteger(SimTee), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.SnpOid, VcekExtensions.EncodeInteger(SimSnp), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.MicrocodeOid, VcekExtensions.EncodeInteger(SimMicrocode), false));
            vcekRequest.CertificateExtensions.Add(new X509Extension(VcekExtensions.HardwareIdOid, RandomNumberGenerator.GetBytes(64), false));
            X509Certificate2 vcek = vcekRequest.Create(askName, X509SignatureGenerator.CreateForRSA(askKey, RSASignaturePadding.Pss), notBefore, now.AddYears(7), [0x00]);

            // The ARK and ASK private keys are dropped here: nothing after creation needs them,
            // so a leaked simulator directory cannot mint further VCEKs.
            return new SimulatedAmdPlatform(
                X509CertificateLoader.LoadCertificate(arkWithKey.RawData),
                X509CertificateLoader.LoadCertificate(ask.RawData),
                vcek,
                vcekKey);
        }
        catch
        {
            vcekKey.Dispose();
            throw;
        }
    }

    /// <summary>Writes the certificates (PEM) and the VCEK private key (PKCS#8 PEM, mode 0600).</summary>
    public void Save(string directory)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ArkFileName), ArkPem);
        File.WriteAllText(Path.Combine(directory, AskFileName), _ask.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, VcekFileName), VcekPem);
        PrivateKeyFile.Write(Path.Combine(directory, VcekKeyFileName), _vcekKey.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Loads a platform written by <see cref="Save"/>.</summary>
    public static SimulatedAmdPlatform Load(string directory)
    {
        X509Certificate2 ark = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, ArkFileName)));
        X509Certificate2 ask = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, AskFileName)));
        X509Certificate2 vcek = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, VcekFileName)));
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(PrivateKeyFile.Read(Path.Combine(directory, VcekKeyFileName)));
            using ECDsa? certKey = vcek.GetECDsaPublicKey();
            if (certKey is null || !certKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new InvalidDataException("the simulated VCEK private key does not match the VCEK certificate");
            }

            return new SimulatedAmdPlatform(ark, ask, vcek, key);
        }
        catch
        {
            key.Dispose();
            ark.Dispose();
            ask.Dispose();
            vcek.Dispose();
            throw;
        }
    }

    /// <summary>A signed 1184-byte version-3 report, as a simulated guest at <paramref name="request"/>'s VMPL would get it.</summary>
    public byte[] CreateReport(SimulatedReportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (request.ReportData.Length != 64)
        {
            throw new ArgumentException("ReportData must be 64 bytes", nameof(request));
        }

        var builder = new SnpReportBuilder
        {
            Version = 3,
            GuestSvn = request.GuestSvn,
            Policy = request.Policy,
            FamilyId = request.FamilyId ?? new byte[16],
            ImageId = request.ImageId ?? new byte[16],
            Vmpl = request.Vmpl,
            PlatformInfo = 1,
            ReportData = request.ReportData.ToArray(),
            Measurement = request.Measurement,
            HostData = request.HostData ?? new byte[32],
            ReportId = RandomNumberGenerator.GetBytes(32),
            ChipId = _chipId,
            CpuidFamily = 0x19,
            CpuidModel = 0x01,
            CpuidStepping = 0x01,
        }.WithTcb(_tcb);
        try
        {
            return builder.BuildSigned(_vcekKey);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, nameof(request), e);
        }
    }

    /// <summary>Re-signs an edited report with the simulated VCEK (tests build precisely wrong evidence with it).</summary>
    internal void Sign(Span<byte> report)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SnpReportBuilder.Sign(report, _vcekKey);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _vcekKey.Dispose();
        _vcek.Dispose();
        _ask.Dispose();
        _ark.Dispose();
    }
}

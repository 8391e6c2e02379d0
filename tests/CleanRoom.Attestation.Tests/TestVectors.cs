namespace CleanRoom.Attestation.Tests;

/// <summary>Real SEV-SNP reports and chains from Vectors/ (see Vectors/README.md for sources and licences).</summary>
internal static class TestVectors
{
    /// <summary>A moment at which every vector certificate is valid.</summary>
    public static readonly DateTimeOffset VectorTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Dir => Path.Combine(AppContext.BaseDirectory, "Vectors", "sev-snp");

    public static byte[] GoSevGuestReport => File.ReadAllBytes(Path.Combine(Dir, "go-sev-guest", "attestation.bin"));
    public static byte[] GoSevGuestVcekDer => File.ReadAllBytes(Path.Combine(Dir, "go-sev-guest", "vcek.testcer"));
    public static string MilanAskArkPem => File.ReadAllText(Path.Combine(Dir, "go-sev-guest", "ask_ark_milan.pem"));
    public static string GenoaAskArkPem => File.ReadAllText(Path.Combine(Dir, "go-sev-guest", "ask_ark_genoa.pem"));
    public static string TurinAskArkPem => File.ReadAllText(Path.Combine(Dir, "go-sev-guest", "ask_ark_turin_vcek.pem"));

    public static byte[] VirteeReport => Convert.FromHexString(File.ReadAllText(Path.Combine(Dir, "virtee-sev", "report_milan.hex")).Trim());
    public static byte[] VirteeVcekDer => File.ReadAllBytes(Path.Combine(Dir, "virtee-sev", "vcek_milan.der"));
    public static string VirteeAskArkPem => File.ReadAllText(Path.Combine(Dir, "virtee-sev", "cert_chain_milan"));

    public static byte[] SidecarReport => File.ReadAllBytes(Path.Combine(Dir, "confidential-sidecar-containers", "snp_report.bin"));
    public static string SidecarChainPem => File.ReadAllText(Path.Combine(Dir, "confidential-sidecar-containers", "uvm_host_amd_certificate.pem"));
    public static string SidecarSecurityPolicyBase64 => File.ReadAllText(Path.Combine(Dir, "confidential-sidecar-containers", "uvm_security_policy.base64")).Trim();

    public static string Pem(byte[] der) => new(System.Security.Cryptography.PemEncoding.Write("CERTIFICATE", der));

    /// <summary>VCEK + ASK + ARK as one PEM, the MAA "VcekCertChain" layout.</summary>
    public static string GoSevGuestChainPem => Pem(GoSevGuestVcekDer) + "\n" + MilanAskArkPem;

    public static string VirteeChainPem => Pem(VirteeVcekDer) + "\n" + VirteeAskArkPem;

    public static SnpVerifier ProductionVerifier => new(SnpTrustedRoots.Production, new FixedTimeProvider(VectorTime));
}

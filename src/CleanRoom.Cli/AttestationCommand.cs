using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CleanRoom.Attestation;

namespace CleanRoom.Cli;

/// <summary>`cleanroom attestation verify-report`: parse and verify an AMD SEV-SNP report offline.</summary>
internal static class AttestationCommand
{
    public static Command Create()
    {
        var report = new Option<string>("--report") { Description = "ATTESTATION_REPORT file (1184 bytes, or hex text with --hex)", Required = true };
        var hex = new Option<bool>("--hex") { Description = "the report file is hex text" };
        var vcek = new Option<string>("--vcek") { Description = "VCEK certificate (DER or PEM)", Required = true };
        var chain = new Option<string>("--chain") { Description = "ASK then ARK certificates (PEM); a VCEK, ASK, ARK file (the MAA VcekCertChain layout) is accepted too", Required = true };
        var policy = new Option<string?>("--policy") { Description = "attestation policy JSON file to evaluate the report against" };
        var runtime = new Option<string?>("--runtime-data") { Description = "runtime data whose SHA-256 REPORT_DATA must bind (needed by --policy)" };
        var simRoot = new Option<string?>("--simulated-root") { Description = "trust this simulated ARK (PEM) instead of the pinned AMD roots" };
        var verify = new Command("verify-report", "print a SEV-SNP report's fields and verify its signature, certificate chain and (optionally) a policy; exit 0 only if all pass")
        {
            report, hex, vcek, chain, policy, runtime, simRoot,
        };
        verify.SetAction(CliApp.Guard(async (pr, ct) =>
        {
            var raw = await File.ReadAllBytesAsync(pr.GetValue(report)!, ct);
            if (pr.GetValue(hex))
            {
                var text = new string(Encoding.ASCII.GetString(raw).Where(Uri.IsHexDigit).ToArray());
                try
                {
                    raw = Convert.FromHexString(text);
                }
                catch (FormatException)
                {
                    throw new CliException("the report file is not valid hex", "snp.bad_hex");
                }
            }

            var parsed = SnpReport.Parse(raw);
            if (!parsed.IsValid)
            {
                Console.WriteLine($"FAIL  parse: {parsed.Reason} [{parsed.ErrorCode}]");
                return 1;
            }

            foreach (var line in SnpReportPrinter.Render(parsed.Report!))
            {
                Console.WriteLine(line);
            }

            var vcekBytes = await File.ReadAllBytesAsync(pr.GetValue(vcek)!, ct);
            var vcekText = Encoding.ASCII.GetString(vcekBytes);
            if (vcekText.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                vcekBytes = X509Certificate2.CreateFromPem(vcekText).RawData;
            }

            var roots = pr.GetValue(simRoot) is { } rootFile ? SnpTrustedRoots.SimulatedFromPem(await File.ReadAllTextAsync(rootFile, ct)) : SnpTrustedRoots.Production;
            var chainPem = await File.ReadAllTextAsync(pr.GetValue(chain)!, ct);
            var verification = new SnpVerifier(roots).Verify(raw, vcekBytes, AskArkOnly(chainPem, vcekBytes));
            Console.WriteLine(verification.IsValid
                ? $"PASS  signature and chain: VCEK ({verification.ProductName}) ← ASK ← {(verification.IsSimulatedRoot ? "SIMULATED ARK" : "pinned AMD ARK")}"
                : $"FAIL  signature and chain: {verification.Reason} [{verification.ErrorCode}]");
            if (!verification.IsValid)
            {
                return 1;
            }

            if (pr.GetValue(policy) is not { } policyFile)
            {
                return 0;
            }

            var loaded = AttestationPolicy.Load(policyFile);
            if (!loaded.IsValid)
            {
                Console.WriteLine($"FAIL  policy: cannot be used: {loaded.Reason} [{loaded.ErrorCode}]");
                return 1;
            }

            var runtimeHash = pr.GetValue(runtime) is { } runtimeFile ? SHA256.HashData(await File.ReadAllBytesAsync(runtimeFile, ct)) : [];
            var decision = loaded.Policy!.Evaluate(verification, runtimeHash);
            Console.WriteLine(decision.IsAllowed
                ? $"PASS  policy '{loaded.Policy.Name}'"
                : $"FAIL  policy '{loaded.Policy.Name}': {decision.Reason} [{decision.ErrorCode}]" + (runtimeHash.Length == 0 && decision.ErrorCode == AttestationPolicyErrorCodes.ReportDataMismatch ? " (pass --runtime-data FILE)" : string.Empty));
            return decision.IsAllowed ? 0 : 1;
        }));
        return new Command("attestation", "inspect attestation evidence") { verify };
    }

    /// <summary>
    /// Drops a leading copy of the VCEK from a VCEK, ASK, ARK chain so both chain layouts work;
    /// anything else is passed through for the verifier to judge.
    /// </summary>
    private static string AskArkOnly(string chainPem, byte[] vcekDer)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(chainPem);
        }
        catch (CryptographicException)
        {
            return chainPem;
        }

        try
        {
            return certificates.Count == 3 && certificates[0].RawData.AsSpan().SequenceEqual(vcekDer)
                ? certificates[1].ExportCertificatePem() + "\n" + certificates[2].ExportCertificatePem()
                : chainPem;
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }
}

namespace CleanRoom.Attestation;

/// <summary>Renders a parsed SEV-SNP report as "FIELD: value" lines for the CLI (field names per AMD spec 56860, Table 21).</summary>
public static class SnpReportPrinter
{
    public static IReadOnlyList<string> Render(SnpReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        SnpGuestPolicy p = report.Policy;
        SnpPlatformInfo pi = report.PlatformInfo;
        var lines = new List<string>
        {
            $"VERSION: {report.Version}",
            $"GUEST_SVN: {report.GuestSvn}",
            $"POLICY: 0x{p.Raw:x} (abi {p.AbiMajor}.{p.AbiMinor}, smt={Flag(p.SmtAllowed)}, migrate_ma={Flag(p.MigrateMa)}, debug={Flag(p.Debug)}, single_socket={Flag(p.SingleSocket)}, cxl={Flag(p.CxlAllowed)}, aes256_xts={Flag(p.MemAes256Xts)}, rapl_dis={Flag(p.RaplDisabled)}, ciphertext_hiding={Flag(p.CiphertextHiding)}, page_swap_disable={Flag(p.PageSwapDisabled)})",
            $"FAMILY_ID: {Hex(report.FamilyId)}",
            $"IMAGE_ID: {Hex(report.ImageId)}",
            $"VMPL: {report.Vmpl}",
            $"SIGNATURE_ALGO: {report.SignatureAlgorithm}",
            $"CURRENT_TCB: {report.CurrentTcb}",
            $"PLATFORM_INFO: 0x{pi.Raw:x} (smt={Flag(pi.SmtEnabled)}, tsme={Flag(pi.TsmeEnabled)}, ecc={Flag(pi.EccEnabled)}, rapl_dis={Flag(pi.RaplDisabled)}, ciphertext_hiding={Flag(pi.CiphertextHidingEnabled)}, alias_check={Flag(pi.AliasCheckComplete)}, tio={Flag(pi.TioEnabled)})",
            $"SIGNER_INFO: author_key_en={Flag(report.AuthorKeyEnabled)} mask_chip_key={Flag(report.MaskChipKey)} signing_key={report.SigningKey}",
            $"REPORT_DATA: {Hex(report.ReportData)}",
            $"MEASUREMENT: {Hex(report.Measurement)}",
            $"HOST_DATA: {Hex(report.HostData)}",
            $"ID_KEY_DIGEST: {Hex(report.IdKeyDigest)}",
            $"AUTHOR_KEY_DIGEST: {Hex(report.AuthorKeyDigest)}",
            $"REPORT_ID: {Hex(report.ReportId)}",
            $"REPORT_ID_MA: {Hex(report.ReportIdMa)}",
            $"REPORTED_TCB: {report.ReportedTcb}",
        };
        if (report.CpuidFamily is { } family)
        {
            lines.Add($"CPUID: family 0x{family:x2} model 0x{report.CpuidModel:x2} stepping 0x{report.CpuidStepping:x2}");
        }

        lines.Add($"PRODUCT_LINE: {report.ProductLine}");
        lines.Add($"CHIP_ID: {Hex(report.ChipId)}");
        lines.Add($"COMMITTED_TCB: {report.CommittedTcb}");
        lines.Add($"CURRENT_VERSION: {report.CurrentVersion}");
        lines.Add($"COMMITTED_VERSION: {report.CommittedVersion}");
        lines.Add($"LAUNCH_TCB: {report.LaunchTcb}");
        if (report.LaunchMitVector is { } launchMit)
        {
            lines.Add($"LAUNCH_MIT_VECTOR: 0x{launchMit:x16}");
            lines.Add($"CURRENT_MIT_VECTOR: 0x{report.CurrentMitVector:x16}");
        }

        return lines;
    }

    private static string Flag(bool value) => value ? "1" : "0";

    private static string Hex(ReadOnlyMemory<byte> bytes) => Convert.ToHexStringLower(bytes.Span);
}

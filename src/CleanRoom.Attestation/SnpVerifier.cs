// AMD SEV-SNP evidence verification: ATTESTATION_REPORT signature (AMD pub. 56860, §7.3 and
// Chapter 10 "ECDSA P-384 with SHA-384": R and S 72-byte little-endian, over 0x000–0x29F) and
// the VCEK ← ASK ← ARK chain (AMD pub. 57230; RSASSA-PSS SHA-384, salt 48; ARK/ASK RSA-4096,
// VCEK ECDSA P-384), with the VCEK's TCB and hwID extensions matched against the report.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CleanRoom.Attestation.Internal;
using O = CleanRoom.Attestation.Internal.SnpReportOffsets;

namespace CleanRoom.Attestation;

/// <summary>Verifies SEV-SNP reports against a pinned set of AMD (or simulated AMD) roots. Thread-safe.</summary>
public sealed class SnpVerifier
{
    // Bounds the memory a stream of distinct chains can take; the cache is only a speed-up.
    private const int MaxCachedChains = 256;

    private readonly SnpTrustedRoots _roots;
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, VerifiedChain> _chains = new(StringComparer.Ordinal);

    public SnpVerifier(SnpTrustedRoots roots, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = roots;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Verifies a report with a PEM chain holding VCEK, ASK and ARK in that order (the MAA "VcekCertChain").</summary>
    public SnpVerificationResult Verify(ReadOnlySpan<byte> report, string certChainPem)
    {
        if (!TryReadPemCertificates(certChainPem, out List<byte[]> ders) || ders.Count != 3)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateChainMalformed, "the certificate chain must be three PEM certificates: VCEK, ASK, ARK");
        }

        return Verify(report, ders[0], ders[1], ders[2]);
    }

    /// <summary>Verifies a report with a DER VCEK and a PEM holding ASK then ARK (the layout AMD's KDS serves).</summary>
    public SnpVerificationResult Verify(ReadOnlySpan<byte> report, ReadOnlySpan<byte> vcekDer, string askArkPem)
    {
        if (!TryReadPemCertificates(askArkPem, out List<byte[]> ders) || ders.Count != 2)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateChainMalformed, "the ASK/ARK file must be two PEM certificates: ASK, ARK");
        }

        return Verify(report, vcekDer, ders[0], ders[1]);
    }

    /// <summary>Verifies a report with DER-encoded VCEK, ASK and ARK certificates.</summary>
    public SnpVerificationResult Verify(ReadOnlySpan<byte> report, ReadOnlySpan<byte> vcekDer, ReadOnlySpan<byte> askDer, ReadOnlySpan<byte> arkDer)
    {
        SnpParseResult parsed = SnpReport.Parse(report);
        if (!parsed.IsValid)
        {
            return SnpVerificationResult.Failure(parsed.ErrorCode, parsed.Reason);
        }

        if (parsed.Report.SigningKey != SnpSigningKey.Vcek)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.UnsupportedSigningKey, $"report is signed by {parsed.Report.SigningKey}; only VCEK-signed reports are accepted");
        }

        if (!_roots.TryMatch(arkDer, out _))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.RootNotTrusted, "the ARK is not one of the pinned roots");
        }

        // A chain that verified before (same DER bytes, same pinned roots) is not re-verified: only its validity window is
        // checked again. The report signature and every report-to-VCEK binding are checked on every call.
        string chainId = ChainId(arkDer, askDer, vcekDer);
        if (_chains.TryGetValue(chainId, out VerifiedChain? cached))
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (now < cached.NotBefore || now > cached.NotAfter)
            {
                _chains.TryRemove(chainId, out _); // not disposed: a concurrent call may still hold it
            }
            else
            {
                // The exact bytes of a report whose signature verified under this chain before (a per-boot report sent
                // again with a fresh request nonce) need no second ECDSA verification: the answer cannot differ. Any
                // changed byte, signature included, misses. Every other check below runs on every call.
                string reportId = ReportId(report);
                if (cached.HasVerified(reportId))
                {
                    return VerifyReport(report, parsed.Report, null, cached.Extensions, null, out _);
                }

                // Importing a P-384 key costs as much as a verification (OpenSSL checks the point), so the key is kept; ECDsa
                // instances are not documented as thread-safe, hence the lock.
                SnpVerificationResult verdict;
                lock (cached.VcekKey)
                {
                    verdict = VerifyReport(report, parsed.Report, cached.VcekKey, cached.Extensions, null, out bool signatureGood);
                    if (signatureGood)
                    {
                        cached.RecordVerified(reportId);
                    }
                }

                return verdict;
            }
        }

        using AmdCertificate? ark = AmdCertificate.TryParse(arkDer, out string? arkError);
        using AmdCertificate? ask = AmdCertificate.TryParse(askDer, out string? askError);
        using AmdCertificate? vcek = AmdCertificate.TryParse(vcekDer, out string? vcekError);
        if (ark is null || ask is null || vcek is null)
        {
            string which = ark is null ? $"ARK: {arkError}" : ask is null ? $"ASK: {askError}" : $"VCEK: {vcekError}";
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateChainMalformed, which);
        }

        SnpVerificationResult? chainFailure = VerifyChain(ark, ask, vcek);
        if (chainFailure is not null)
        {
            return chainFailure;
        }

        using ECDsa? vcekKey = vcek.Certificate.GetECDsaPublicKey();
        if (vcekKey is null || vcekKey.KeySize != 384 || vcekKey.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP384.Oid.Value)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.VcekKeyInvalid, "the VCEK key is not ECDSA P-384");
        }

        VcekExtensions? extensions = VcekExtensions.TryRead(vcek.Certificate, out string? extensionError);
        SnpVerificationResult result = VerifyReport(report, parsed.Report, vcekKey, extensions, extensionError, out bool chainUsable);
        if (chainUsable && extensions is not null)
        {
            if (_chains.Count >= MaxCachedChains)
            {
                // Entries are dropped, not disposed: a concurrent call may still hold one (its key is then left to the GC).
                _chains.Clear();
            }

            DateTimeOffset notBefore = new[] { ark, ask, vcek }.Max(c => new DateTimeOffset(c.Certificate.NotBefore.ToUniversalTime()));
            DateTimeOffset notAfter = new[] { ark, ask, vcek }.Min(c => new DateTimeOffset(c.Certificate.NotAfter.ToUniversalTime()));
            var cachedKey = ECDsa.Create(vcekKey.ExportParameters(false));
            var entry = new VerifiedChain(cachedKey, extensions, notBefore, notAfter);
            entry.RecordVerified(ReportId(report));
            if (!_chains.TryAdd(chainId, entry))
            {
                cachedKey.Dispose();
            }
        }

        return result;
    }

    /// <summary>
    /// Checks the report against an already verified VCEK: signature, product line, TCB and chip ID. <paramref name="chainUsable"/>
    /// says whether the chain itself proved sound (the signature verified and the extensions were readable), so it may be cached.
    /// </summary>
    /// <remarks>A null <paramref name="vcekKey"/> means these exact report bytes verified under this VCEK before.</remarks>
    private SnpVerificationResult VerifyReport(ReadOnlySpan<byte> report, SnpReport parsedReport, ECDsa? vcekKey, VcekExtensions? extensions, string? extensionError, out bool chainUsable)
    {
        chainUsable = false;
        if (vcekKey is not null && !VerifyReportSignature(report, vcekKey))
        {
            // Same stable code either way; the reason says when the VCEK is evidently another chip's.
            return SnpVerificationResult.Failure(
                SnpErrorCodes.ReportSignatureInvalid,
                IsOtherChipsVcek(parsedReport, extensions)
                    ? "the report signature does not verify under the VCEK, whose hardware ID differs from the report's CHIP_ID (a VCEK of another chip?)"
                    : "the report signature does not verify under the VCEK");
        }

        if (extensions is null)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.VcekExtensionInvalid, extensionError ?? "VCEK extensions are invalid");
        }

        chainUsable = true;
        SnpParseResult resolved = parsedReport.WithProductLine(SnpReport.ProductLineFromName(extensions.ProductName));
        if (!resolved.IsValid)
        {
            string reason = resolved.ErrorCode == SnpErrorCodes.UnknownProduct
                ? $"VCEK product name '{extensions.ProductName}' is not a known product line"
                : resolved.Reason;
            return SnpVerificationResult.Failure(resolved.ErrorCode, reason);
        }

        SnpReport verified = resolved.Report;
        SnpTcb tcb = verified.ReportedTcb;
        if (tcb.Bootloader != extensions.Bootloader || tcb.Tee != extensions.Tee || tcb.Snp != extensions.Snp
            || tcb.Microcode != extensions.Microcode || (extensions.Fmc is not null && tcb.Fmc != extensions.Fmc))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.TcbMismatch, $"REPORTED_TCB ({tcb}) differs from the VCEK's TCB extensions");
        }

        if (!ChipIdMatches(verified, extensions.HardwareId))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.ChipIdMismatch, "CHIP_ID differs from the VCEK's hardware ID");
        }

        return SnpVerificationResult.Success(verified, extensions.ProductName, _roots.IsSimulated);
    }

    private static string ChainId(ReadOnlySpan<byte> arkDer, ReadOnlySpan<byte> askDer, ReadOnlySpan<byte> vcekDer)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendWithLength(hash, arkDer);
        AppendWithLength(hash, askDer);
        AppendWithLength(hash, vcekDer);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static void AppendWithLength(IncrementalHash hash, ReadOnlySpan<byte> der)
    {
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, der.Length);
        hash.AppendData(length);
        hash.AppendData(der);
    }

    /// <summary>SHA-256 of the whole report, signature included.</summary>
    private static string ReportId(ReadOnlySpan<byte> report) => Convert.ToHexString(SHA256.HashData(report));

    private sealed record VerifiedChain(ECDsa VcekKey, VcekExtensions Extensions, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
    {
        // Bounds the memory a stream of distinct reports under one chain can take.
        private const int MaxVerifiedReports = 1024;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _verifiedReports = new(StringComparer.Ordinal);

        public bool HasVerified(string reportId) => _verifiedReports.ContainsKey(reportId);

        public void RecordVerified(string reportId)
        {
            if (_verifiedReports.Count >= MaxVerifiedReports)
            {
                _verifiedReports.Clear();
            }

            _verifiedReports.TryAdd(reportId, 0);
        }
    }

    private SnpVerificationResult? VerifyChain(AmdCertificate ark, AmdCertificate ask, AmdCertificate vcek)
    {
        using RSA? arkKey = ark.Certificate.GetRSAPublicKey();
        using RSA? askKey = ask.Certificate.GetRSAPublicKey();
        if (arkKey is null || askKey is null || arkKey.KeySize != 4096 || askKey.KeySize != 4096)
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateAlgorithmInvalid, "ARK and ASK must be RSA-4096 keys");
        }

        foreach ((string name, AmdCertificate cert) in new[] { ("ARK", ark), ("ASK", ask), ("VCEK", vcek) })
        {
            if (!cert.HasPssSha384Algorithm())
            {
                return SnpVerificationResult.Failure(SnpErrorCodes.CertificateAlgorithmInvalid, $"{name} is not signed with RSASSA-PSS/SHA-384 (salt 48)");
            }
        }

        if (!ark.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(ark.Certificate.IssuerName.RawData) || !ark.IsSignedBy(arkKey))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateSignatureInvalid, "the ARK is not validly self-signed");
        }

        if (!ask.Certificate.IssuerName.RawData.AsSpan().SequenceEqual(ark.Certificate.SubjectName.RawData) || !ask.IsSignedBy(arkKey))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateSignatureInvalid, "the ASK is not signed by the ARK");
        }

        if (!vcek.Certificate.IssuerName.RawData.AsSpan().SequenceEqual(ask.Certificate.SubjectName.RawData) || !vcek.IsSignedBy(askKey))
        {
            return SnpVerificationResult.Failure(SnpErrorCodes.CertificateSignatureInvalid, "the VCEK is not signed by the ASK");
        }

        DateTimeOffset now = _time.GetUtcNow();
        foreach ((string name, AmdCertificate cert) in new[] { ("ARK", ark), ("ASK", ask), ("VCEK", vcek) })
        {
            if (now < cert.Certificate.NotBefore.ToUniversalTime() || now > cert.Certificate.NotAfter.ToUniversalTime())
            {
                return SnpVerificationResult.Failure(SnpErrorCodes.CertificateExpired, $"the {name} certificate is not valid at {now:u}");
            }
        }

        return null;
    }

    private static bool VerifyReportSignature(ReadOnlySpan<byte> report, ECDsa vcekKey)
    {
        // R and S are 72-byte little-endian fields; P-384 uses the low 48 bytes (the parser has
        // already required the upper 24 to be zero). .NET wants big-endian R ‖ S.
        Span<byte> p1363 = stackalloc byte[96];
        report.Slice(O.SignatureR, 48).CopyTo(p1363[..48]);
        report.Slice(O.SignatureS, 48).CopyTo(p1363[48..]);
        p1363[..48].Reverse();
        p1363[48..].Reverse();
        return vcekKey.VerifyData(report[..O.SignedLength], p1363, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    private static bool IsOtherChipsVcek(SnpReport report, VcekExtensions? extensions)
    {
        if (extensions is null || report.MaskChipKey)
        {
            return false;
        }

        ReadOnlySpan<byte> chipId = report.ChipId.Span;
        return extensions.HardwareId.Length switch
        {
            8 => !chipId[..8].SequenceEqual(extensions.HardwareId),
            64 => !chipId.SequenceEqual(extensions.HardwareId),
            _ => false,
        };
    }

    private static bool ChipIdMatches(SnpReport report, byte[] hardwareId)
    {
        ReadOnlySpan<byte> chipId = report.ChipId.Span;
        if (report.MaskChipKey)
        {
            // The guest asked the firmware to zero CHIP_ID; the signature still binds the VCEK.
            return !chipId.ContainsAnyExcept((byte)0);
        }

        return report.ProductLine switch
        {
            // Turin VCEKs carry an 8-byte hwID (go-sev-guest kds.TurinHWIDSize) naming the chip by
            // the first 8 bytes of CHIP_ID.
            SnpProductLine.Turin => hardwareId.Length == 8 && chipId[..8].SequenceEqual(hardwareId),
            _ => hardwareId.Length == 64 && chipId.SequenceEqual(hardwareId),
        };
    }

    internal static bool TryReadPemCertificates(string? pem, out List<byte[]> ders)
    {
        ders = [];
        if (string.IsNullOrWhiteSpace(pem))
        {
            return false;
        }

        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            if (!rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                return false;
            }

            ders.Add(Convert.FromBase64String(rest[fields.Base64Data].ToString()));
            rest = rest[fields.Location.End..];
        }

        return ders.Count > 0 && rest.Trim().IsEmpty;
    }
}

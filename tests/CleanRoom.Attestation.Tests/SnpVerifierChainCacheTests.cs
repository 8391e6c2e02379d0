using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.Attestation.Tests;

/// <summary>A verifier reuses a chain it verified before; everything about the report is still checked on every call.</summary>
public sealed class SnpVerifierChainCacheTests(SimulatedPlatformFixture fixture) : IClassFixture<SimulatedPlatformFixture>
{
    private readonly SimulatedAmdPlatform _platform = fixture.Platform;

    [Fact]
    public void A_tampered_report_is_refused_under_a_chain_that_verified_before()
    {
        var verifier = new SnpVerifier(_platform.TrustedRoots);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = RandomNumberGenerator.GetBytes(64) });
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);

        byte[] tampered = (byte[])report.Clone();
        tampered[0x50] ^= 0x01; // REPORT_DATA, inside the signed region
        SnpVerificationResult refused = verifier.Verify(tampered, _platform.CertChainPem);

        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, refused.ErrorCode);
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);
    }

    [Fact]
    public void A_cached_chain_is_refused_once_a_certificate_has_expired()
    {
        var time = new FixedTimeProvider(DateTimeOffset.UtcNow);
        var verifier = new SnpVerifier(_platform.TrustedRoots, time);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);

        using var vcek = X509Certificate2.CreateFromPem(_platform.CertChainPem);
        time.Now = new DateTimeOffset(vcek.NotAfter.ToUniversalTime()).AddSeconds(1);

        Assert.Equal(SnpErrorCodes.CertificateExpired, verifier.Verify(report, _platform.CertChainPem).ErrorCode);
    }

    [Fact]
    public void A_chain_whose_ark_is_not_pinned_is_refused_even_after_another_chain_was_cached()
    {
        var verifier = new SnpVerifier(_platform.TrustedRoots);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);

        using SimulatedAmdPlatform other = SimulatedAmdPlatform.Create();
        byte[] otherReport = other.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });

        Assert.Equal(SnpErrorCodes.RootNotTrusted, verifier.Verify(otherReport, other.CertChainPem).ErrorCode);
    }
    [Fact]
    public void A_report_sent_again_verifies_and_any_changed_signature_byte_is_still_refused()
    {
        var verifier = new SnpVerifier(_platform.TrustedRoots);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = RandomNumberGenerator.GetBytes(64) });
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid); // the same bytes again: no second ECDSA verification

        foreach (int offset in new[] { 0x2A0, 0x2CF, 0x2E8, 0x317 }) // low bytes of R and S, outside the signed region
        {
            byte[] tampered = (byte[])report.Clone();
            tampered[offset] ^= 0x01;
            Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, verifier.Verify(tampered, _platform.CertChainPem).ErrorCode);
        }

        byte[] signedRegion = (byte[])report.Clone();
        signedRegion[0x90] ^= 0x80; // MEASUREMENT
        Assert.Equal(SnpErrorCodes.ReportSignatureInvalid, verifier.Verify(signedRegion, _platform.CertChainPem).ErrorCode);
    }

    [Fact]
    public void A_report_verified_before_is_refused_once_its_chain_has_expired()
    {
        var time = new FixedTimeProvider(DateTimeOffset.UtcNow);
        var verifier = new SnpVerifier(_platform.TrustedRoots, time);
        byte[] report = _platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64] });
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);
        Assert.True(verifier.Verify(report, _platform.CertChainPem).IsValid);

        using var vcek = X509Certificate2.CreateFromPem(_platform.CertChainPem);
        time.Now = new DateTimeOffset(vcek.NotAfter.ToUniversalTime()).AddSeconds(1);

        Assert.Equal(SnpErrorCodes.CertificateExpired, verifier.Verify(report, _platform.CertChainPem).ErrorCode);
    }
}

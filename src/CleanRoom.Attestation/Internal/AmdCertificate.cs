// X.509 (RFC 5280) certificates of the AMD SEV-SNP key hierarchy (AMD pub. 57230): signatures are
// RSASSA-PSS (RFC 8017 §8.1, parameters per RFC 4055) with SHA-384, MGF1-SHA-384, salt 48, trailer 1.
// The signature is checked by hand over the DER tbsCertificate rather than via X509Chain.
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.Attestation.Internal;

/// <summary>A DER certificate split into the parts needed to check an RSASSA-PSS signature on it.</summary>
internal sealed class AmdCertificate : IDisposable
{
    private const string RsaPssOid = "1.2.840.113549.1.1.10";
    private const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    private const string Mgf1Oid = "1.2.840.113549.1.1.8";

    private AmdCertificate(X509Certificate2 certificate, byte[] tbs, byte[] signatureAlgorithm, byte[] signature)
    {
        Certificate = certificate;
        Tbs = tbs;
        SignatureAlgorithm = signatureAlgorithm;
        SignatureValue = signature;
    }

    public X509Certificate2 Certificate { get; }

    public byte[] Tbs { get; }

    public byte[] SignatureAlgorithm { get; }

    public byte[] SignatureValue { get; }

    public static AmdCertificate? TryParse(ReadOnlySpan<byte> der, out string? error)
    {
        error = null;
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            AsnReader cert = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            byte[] tbs = cert.ReadEncodedValue().ToArray();
            byte[] algorithm = cert.ReadEncodedValue().ToArray();
            byte[] signature = cert.ReadBitString(out int unused);
            cert.ThrowIfNotEmpty();
            if (unused != 0)
            {
                error = "signature BIT STRING has unused bits";
                return null;
            }

            // RFC 5280 §4.1.1.2: the algorithm inside tbsCertificate must equal the outer one.
            AsnReader tbsReader = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
            if (tbsReader.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, true)))
            {
                tbsReader.ReadEncodedValue();
            }

            tbsReader.ReadEncodedValue(); // serialNumber
            if (!tbsReader.ReadEncodedValue().Span.SequenceEqual(algorithm))
            {
                error = "inner and outer signature algorithms differ";
                return null;
            }

            return new AmdCertificate(X509CertificateLoader.LoadCertificate(der), tbs, algorithm, signature);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            error = "certificate is not valid DER";
            return null;
        }
    }

    /// <summary>True when the signature algorithm is exactly RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48, trailer 1.</summary>
    public bool HasPssSha384Algorithm()
    {
        try
        {
            var reader = new AsnReader(SignatureAlgorithm, AsnEncodingRules.DER);
            AsnReader alg = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            if (alg.ReadObjectIdentifier() != RsaPssOid)
            {
                return false;
            }

            AsnReader p = alg.ReadSequence();
            alg.ThrowIfNotEmpty();

            AsnReader hash = p.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
            if (!IsSha384Identifier(hash.ReadSequence()))
            {
                return false;
            }

            hash.ThrowIfNotEmpty();
            AsnReader mgf = p.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 1, true)).ReadSequence();
            if (mgf.ReadObjectIdentifier() != Mgf1Oid || !IsSha384Identifier(mgf.ReadSequence()))
            {
                return false;
            }

            mgf.ThrowIfNotEmpty();
            AsnReader salt = p.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 2, true));
            if (!salt.TryReadInt32(out int saltLength) || saltLength != 48)
            {
                return false;
            }

            salt.ThrowIfNotEmpty();
            if (p.HasData)
            {
                AsnReader trailer = p.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3, true));
                if (!trailer.TryReadInt32(out int trailerField) || trailerField != 1)
                {
                    return false;
                }

                trailer.ThrowIfNotEmpty();
            }

            p.ThrowIfNotEmpty();
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>Checks this certificate's RSASSA-PSS-SHA-384 signature under <paramref name="issuerKey"/>.</summary>
    public bool IsSignedBy(RSA issuerKey)
    {
        // .NET's PSS verification uses salt length = hash length (48 for SHA-384), as required.
        return HasPssSha384Algorithm()
            && SignatureValue.Length == issuerKey.KeySize / 8
            && issuerKey.VerifyData(Tbs, SignatureValue, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
    }

    public void Dispose() => Certificate.Dispose();

    private static bool IsSha384Identifier(AsnReader hashAlgorithm)
    {
        if (hashAlgorithm.ReadObjectIdentifier() != Sha384Oid)
        {
            return false;
        }

        if (hashAlgorithm.HasData)
        {
            hashAlgorithm.ReadNull();
        }

        hashAlgorithm.ThrowIfNotEmpty();
        return true;
    }
}

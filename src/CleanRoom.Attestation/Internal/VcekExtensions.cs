// VCEK certificate extensions, AMD "VCEK Certificate and KDS Interface Specification" (pub. 57230),
// Table 8: under 1.3.6.1.4.1.3704.1 — .1 struct version, .2 product name (IA5String),
// .3.1 blSPL, .3.2 teeSPL, .3.3 snpSPL, .3.8 ucodeSPL, .3.9 fmcSPL (Turin) as DER INTEGERs,
// .4 hwID as raw bytes (64 bytes = CHIP_ID on Milan/Genoa, 8 bytes on Turin).
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.Attestation.Internal;

internal sealed record VcekExtensions(string ProductName, byte Bootloader, byte Tee, byte Snp, byte Microcode, byte? Fmc, byte[] HardwareId)
{
    public const string StructVersionOid = "1.3.6.1.4.1.3704.1.1";
    public const string ProductNameOid = "1.3.6.1.4.1.3704.1.2";
    public const string BootloaderOid = "1.3.6.1.4.1.3704.1.3.1";
    public const string TeeOid = "1.3.6.1.4.1.3704.1.3.2";
    public const string SnpOid = "1.3.6.1.4.1.3704.1.3.3";
    public const string MicrocodeOid = "1.3.6.1.4.1.3704.1.3.8";
    public const string FmcOid = "1.3.6.1.4.1.3704.1.3.9";
    public const string HardwareIdOid = "1.3.6.1.4.1.3704.1.4";

    public static VcekExtensions? TryRead(X509Certificate2 vcek, out string? error)
    {
        var byOid = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (X509Extension extension in vcek.Extensions)
        {
            if (extension.Oid?.Value is { } oid && !byOid.TryAdd(oid, extension.RawData))
            {
                error = $"extension {oid} appears twice";
                return null;
            }
        }

        try
        {
            if (!byOid.TryGetValue(ProductNameOid, out byte[]? name)
                || !TryInteger(byOid, BootloaderOid, out byte bl)
                || !TryInteger(byOid, TeeOid, out byte tee)
                || !TryInteger(byOid, SnpOid, out byte snp)
                || !TryInteger(byOid, MicrocodeOid, out byte ucode)
                || !byOid.TryGetValue(HardwareIdOid, out byte[]? hwid))
            {
                error = "a required VCEK extension (product name, TCB SPLs or hwID) is missing or out of range";
                return null;
            }

            var reader = new AsnReader(name, AsnEncodingRules.DER);
            string productName = reader.ReadCharacterString(UniversalTagNumber.IA5String);
            reader.ThrowIfNotEmpty();
            byte? fmc = null;
            if (byOid.ContainsKey(FmcOid))
            {
                if (!TryInteger(byOid, FmcOid, out byte f))
                {
                    error = "the VCEK fmcSPL extension is out of range";
                    return null;
                }

                fmc = f;
            }

            // The KDS writes the hwID without a DER tag; accept a tagged OCTET STRING too (as
            // go-sev-guest does) in case AMD starts adding one.
            if (hwid.Length is not (64 or 8))
            {
                var hwidReader = new AsnReader(hwid, AsnEncodingRules.DER);
                hwid = hwidReader.ReadOctetString();
                hwidReader.ThrowIfNotEmpty();
            }

            error = null;
            return new VcekExtensions(productName, bl, tee, snp, ucode, fmc, hwid);
        }
        catch (AsnContentException)
        {
            error = "a VCEK extension is not valid DER";
            return null;
        }
    }

    public static byte[] EncodeInteger(byte value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteInteger(value);
        return writer.Encode();
    }

    public static byte[] EncodeProductName(string productName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.IA5String, productName);
        return writer.Encode();
    }

    private static bool TryInteger(Dictionary<string, byte[]> byOid, string oid, out byte value)
    {
        value = 0;
        if (!byOid.TryGetValue(oid, out byte[]? der))
        {
            return false;
        }

        var reader = new AsnReader(der, AsnEncodingRules.DER);
        bool ok = reader.TryReadInt32(out int v);
        reader.ThrowIfNotEmpty();
        if (!ok || v is < 0 or > 255)
        {
            return false;
        }

        value = (byte)v;
        return true;
    }
}

// Linux configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm, Linux ≥ 6.7):
//   mkdir  {root}/{entry}            creates a report request
//   write  {entry}/inblob            64 bytes: the SEV-SNP REPORT_DATA
//   read   {entry}/outblob           the ATTESTATION_REPORT (1184 bytes, AMD pub. 56860 Table 21)
//   read   {entry}/auxblob           (optional) the GHCB extended-request certificate table:
//                                    entries of GUID (16) ‖ offset (u32 LE) ‖ length (u32 LE),
//                                    ended by an all-zero entry; offsets index the table; certs are DER
//   read   {entry}/generation        bumps on every write; compared to detect a racing writer
//   rmdir  {root}/{entry}
// The VCEK chain comes from auxblob when the host provides it, otherwise from a PEM file (VCEK, ASK, ARK).
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CleanRoom.Enclave;

/// <summary>Real SEV-SNP evidence through configfs-tsm. Fails loudly; never falls back to simulation.</summary>
internal sealed class ConfigFsTsmEvidenceSource(string root, string? vcekChainFile) : IEvidenceSource
{
    public const string DefaultRoot = "/sys/kernel/config/tsm/report";
    public const int ReportDataLength = 64;
    public const int ReportLength = 1184;

    private static readonly Guid s_vcekGuid = new("63da758d-e664-4564-adc5-f4b93be8accd");
    private static readonly Guid s_askGuid = new("4ab7b379-bbac-4fe4-a02f-05aef327c782");
    private static readonly Guid s_arkGuid = new("c0b406a4-a803-4952-9743-3fb6014cd0ae");

    public bool IsSimulated => false;

    public string Description => $"SEV-SNP via configfs-tsm ({root})";

    public async Task<AttestationEvidence> GetEvidenceAsync(byte[] reportData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reportData);
        if (reportData.Length != ReportDataLength)
        {
            throw new ArgumentException($"REPORT_DATA is {ReportDataLength} bytes", nameof(reportData));
        }

        if (!Directory.Exists(root))
        {
            throw new JobRefusalException("evidence.tsm_unavailable", $"no configfs-tsm report interface at {root} (not an SEV-SNP guest, or configfs not mounted)", isPolicyRefusal: false);
        }

        var entry = Path.Combine(root, "cleanroom-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        Directory.CreateDirectory(entry);
        try
        {
            var provider = await ReadTextAsync(Path.Combine(entry, "provider"), cancellationToken);
            if (provider is not null && provider != "sev_guest")
            {
                throw new JobRefusalException("evidence.tsm_provider", $"configfs-tsm provider is '{provider}', not sev_guest", isPolicyRefusal: false);
            }

            await File.WriteAllBytesAsync(Path.Combine(entry, "inblob"), reportData, cancellationToken);
            var generation = await ReadTextAsync(Path.Combine(entry, "generation"), cancellationToken);
            var outblob = Path.Combine(entry, "outblob");
            // In configfs the attribute exists from mkdir and reading it runs the request; the short
            // wait only serves user-space stand-ins (a test's fake tree) that answer asynchronously.
            for (var waited = 0; !File.Exists(outblob) && waited < 5000; waited += 10)
            {
                await Task.Delay(10, cancellationToken);
            }

            var report = await File.ReadAllBytesAsync(outblob, cancellationToken);
            var auxPath = Path.Combine(entry, "auxblob");
            var aux = File.Exists(auxPath) ? await File.ReadAllBytesAsync(auxPath, cancellationToken) : [];
            if (generation is not null && await ReadTextAsync(Path.Combine(entry, "generation"), cancellationToken) != generation)
            {
                throw new JobRefusalException("evidence.tsm_race", "another writer changed the configfs-tsm request while it was read; retrying", isPolicyRefusal: false);
            }

            if (report.Length != ReportLength)
            {
                throw new JobRefusalException("evidence.tsm_report_length", $"configfs-tsm returned {report.Length} bytes, expected a {ReportLength}-byte ATTESTATION_REPORT", isPolicyRefusal: false);
            }

            var chain = aux.Length > 0 ? ChainFromCertificateTable(aux) : null;
            chain ??= vcekChainFile is not null ? await File.ReadAllTextAsync(vcekChainFile, cancellationToken) : null;
            return chain is null
                ? throw new JobRefusalException("evidence.vcek_chain_missing", "the host supplied no certificate table (auxblob) and no --vcek-chain FILE was given", isPolicyRefusal: false)
                : new AttestationEvidence(report, chain);
        }
        finally
        {
            try
            {
                Directory.Delete(entry);
            }
            catch (IOException)
            {
                // configfs removes the entry's attribute files itself; a fake tree may need a recursive delete.
                Directory.Delete(entry, recursive: true);
            }
        }
    }

    /// <summary>VCEK, ASK, ARK as PEM from a GHCB certificate table; null when the VCEK, ASK or ARK is absent or the table is malformed.</summary>
    internal static string? ChainFromCertificateTable(ReadOnlySpan<byte> table)
    {
        var found = new Dictionary<Guid, byte[]>();
        for (var at = 0; at + 24 <= table.Length; at += 24)
        {
            var guid = new Guid(table.Slice(at, 16));
            if (guid == Guid.Empty)
            {
                break;
            }

            var offset = BinaryPrimitives.ReadUInt32LittleEndian(table.Slice(at + 16, 4));
            var length = BinaryPrimitives.ReadUInt32LittleEndian(table.Slice(at + 20, 4));
            if (offset > (uint)table.Length || length > (uint)table.Length - offset)
            {
                return null;
            }

            found[guid] = table.Slice((int)offset, (int)length).ToArray();
        }

        return found.TryGetValue(s_vcekGuid, out var vcek) && found.TryGetValue(s_askGuid, out var ask) && found.TryGetValue(s_arkGuid, out var ark)
            ? string.Join("\n", Pem(vcek), Pem(ask), Pem(ark)) + "\n"
            : null;
    }

    public void Dispose()
    {
    }

    private static string Pem(byte[] der) => new(PemEncoding.Write("CERTIFICATE", der));

    private static async Task<string?> ReadTextAsync(string path, CancellationToken cancellationToken) =>
        File.Exists(path) ? (await File.ReadAllTextAsync(path, cancellationToken)).Trim() : null;
}

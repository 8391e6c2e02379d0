// AMD SEV-SNP root keys (ARK) per AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS
// Interface Specification" (pub. 57230): RSA-4096, self-signed with RSASSA-PSS/SHA-384.
// Roots are pinned by the SHA-256 of their DER encoding.
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CleanRoom.Attestation;

/// <summary>
/// A pinned set of ARK fingerprints. There is no "trust anything" set: an empty set refuses all
/// evidence. <see cref="Production"/> never contains a simulated root, and a simulated set
/// cannot contain a production root.
/// </summary>
public sealed class SnpTrustedRoots
{
    // SHA-256 of the DER certificates in vectors/sev-snp/go-sev-guest/ask_ark_*.pem (the second
    // certificate of each file), identical to the ARKs served by kdsintf.amd.com.
    private const string ArkMilanSha256 = "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd";
    private const string ArkGenoaSha256 = "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1";
    private const string ArkTurinSha256 = "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a";

    private readonly FrozenDictionary<string, string> _roots;

    private SnpTrustedRoots(IEnumerable<KeyValuePair<string, string>> roots, bool isSimulated)
    {
        _roots = roots.ToFrozenDictionary(StringComparer.Ordinal);
        IsSimulated = isSimulated;
    }

    /// <summary>The real AMD roots: ARK-Milan, ARK-Genoa, ARK-Turin.</summary>
    public static SnpTrustedRoots Production { get; } = new(
        [
            new(ArkMilanSha256, "ARK-Milan"),
            new(ArkGenoaSha256, "ARK-Genoa"),
            new(ArkTurinSha256, "ARK-Turin"),
        ],
        isSimulated: false);

    /// <summary>True for a set of simulated roots; evidence under it is marked simulated.</summary>
    public bool IsSimulated { get; }

    /// <summary>Lower-case hex SHA-256 fingerprints of the pinned roots.</summary>
    public IReadOnlyCollection<string> Fingerprints => _roots.Keys;

    /// <summary>Trusts exactly one simulated ARK, identified by the SHA-256 of its DER encoding.</summary>
    public static SnpTrustedRoots Simulated(ReadOnlySpan<byte> arkSha256)
    {
        if (arkSha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("an ARK fingerprint is a 32-byte SHA-256", nameof(arkSha256));
        }

        string hex = Convert.ToHexStringLower(arkSha256);
        if (Production._roots.ContainsKey(hex))
        {
            throw new ArgumentException("a production AMD root cannot be trusted as a simulated root", nameof(arkSha256));
        }

        return new SnpTrustedRoots([new(hex, "simulated ARK")], isSimulated: true);
    }

    /// <summary>Trusts the simulated ARK in a PEM file written by <see cref="SimulatedAmdPlatform.Save"/>.</summary>
    public static SnpTrustedRoots SimulatedFromPem(string arkPem)
    {
        using X509Certificate2 ark = X509Certificate2.CreateFromPem(arkPem);
        return Simulated(SHA256.HashData(ark.RawData));
    }

    internal bool TryMatch(ReadOnlySpan<byte> arkDer, out string? name) =>
        _roots.TryGetValue(Convert.ToHexStringLower(SHA256.HashData(arkDer)), out name);
}

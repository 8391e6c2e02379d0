// CleanRoom attestation policy for AMD SEV-SNP evidence (format documented in
// attestation-policies/README.md). Checks are over fields of the ATTESTATION_REPORT
// (AMD pub. 56860, Table 21) and the MAA runtime-data binding:
// REPORT_DATA = SHA-256(runtime data) ‖ 32 zero bytes.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CleanRoom.Attestation;

/// <summary>
/// A parsed attestation policy. Strict: unknown or duplicate properties, wrong types and
/// wrong-length hex make the whole policy unparseable, and an unparseable policy refuses all.
/// </summary>
public sealed class AttestationPolicy
{
    public const int DefaultTokenLifetimeSeconds = 8 * 60 * 60;
    public const int MaxTokenLifetimeSeconds = 24 * 60 * 60;

    private static readonly HashSet<string> KnownProperties = new(StringComparer.Ordinal)
    {
        "name", "description", "rootOfTrust", "allowDebug", "allowMigration", "allowedMeasurements", "hostData",
        "minimumTcb", "minimumGuestSvn", "vmpl", "issuer", "tokenLifetimeSeconds",
    };

    private static readonly HashSet<string> KnownTcbProperties = new(StringComparer.Ordinal) { "bootloader", "tee", "snp", "microcode", "fmc" };

    private readonly HashSet<string> _measurements;
    private readonly byte[]? _hostData;

    private AttestationPolicy(
        string name,
        AttestationRootOfTrust rootOfTrust,
        bool allowDebug,
        bool allowMigration,
        HashSet<string> measurements,
        byte[]? hostData,
        MinimumTcb minimumTcb,
        uint minimumGuestSvn,
        uint vmpl,
        string issuer,
        int tokenLifetimeSeconds,
        string policyHash)
    {
        Name = name;
        RootOfTrust = rootOfTrust;
        AllowDebug = allowDebug;
        AllowMigration = allowMigration;
        _measurements = measurements;
        _hostData = hostData;
        MinimumTcb = minimumTcb;
        MinimumGuestSvn = minimumGuestSvn;
        Vmpl = vmpl;
        Issuer = issuer;
        TokenLifetime = TimeSpan.FromSeconds(tokenLifetimeSeconds);
        PolicyHash = policyHash;
    }

    public string Name { get; }

    public AttestationRootOfTrust RootOfTrust { get; }

    public bool AllowDebug { get; }

    public bool AllowMigration { get; }

    /// <summary>Allowed launch measurements, lower-case hex (48 bytes each). Empty allows none.</summary>
    public IReadOnlyCollection<string> AllowedMeasurements => _measurements;

    /// <summary>Required HOST_DATA, or null when the policy does not constrain it.</summary>
    public ReadOnlyMemory<byte>? HostData => _hostData;

    public MinimumTcb MinimumTcb { get; }

    public uint MinimumGuestSvn { get; }

    /// <summary>The VMPL the report must carry exactly.</summary>
    public uint Vmpl { get; }

    /// <summary>The issuer tokens under this policy carry.</summary>
    public string Issuer { get; }

    public TimeSpan TokenLifetime { get; }

    /// <summary>Base64url SHA-256 of the policy text, for the x-ms-policy-hash claim.</summary>
    public string PolicyHash { get; }

    public static AttestationPolicyParseResult Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return AttestationPolicyParseResult.Failure("the policy is empty");
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 8 });
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return AttestationPolicyParseResult.Failure("the policy is not a JSON object");
            }

            foreach (JsonProperty p in root.EnumerateObject())
            {
                if (!KnownProperties.Contains(p.Name))
                {
                    return AttestationPolicyParseResult.Failure($"unknown property '{p.Name}'");
                }
            }

            if (!TryString(root, "name", out string? name) || name.Length == 0)
            {
                return AttestationPolicyParseResult.Failure("'name' must be a non-empty string");
            }

            if (root.TryGetProperty("description", out JsonElement description) && description.ValueKind != JsonValueKind.String)
            {
                return AttestationPolicyParseResult.Failure("'description' must be a string");
            }

            AttestationRootOfTrust rootOfTrust;
            if (!TryString(root, "rootOfTrust", out string? rootText))
            {
                return AttestationPolicyParseResult.Failure("'rootOfTrust' must be \"amd\" or \"simulated-amd\"");
            }

            switch (rootText)
            {
                case "amd":
                    rootOfTrust = AttestationRootOfTrust.Amd;
                    break;
                case "simulated-amd":
                    rootOfTrust = AttestationRootOfTrust.SimulatedAmd;
                    break;
                default:
                    return AttestationPolicyParseResult.Failure("'rootOfTrust' must be \"amd\" or \"simulated-amd\"");
            }

            if (!TryBool(root, "allowDebug", out bool allowDebug) || !TryBool(root, "allowMigration", out bool allowMigration))
            {
                return AttestationPolicyParseResult.Failure("'allowDebug' and 'allowMigration' must be booleans");
            }

            if (!root.TryGetProperty("allowedMeasurements", out JsonElement measurementsElement) || measurementsElement.ValueKind != JsonValueKind.Array)
            {
                return AttestationPolicyParseResult.Failure("'allowedMeasurements' must be an array of 96-digit hex strings");
            }

            var measurements = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonElement m in measurementsElement.EnumerateArray())
            {
                if (!TryHex(m, 48, out byte[]? bytes))
                {
                    return AttestationPolicyParseResult.Failure("'allowedMeasurements' must be an array of 96-digit hex strings");
                }

                measurements.Add(Convert.ToHexStringLower(bytes));
            }

            byte[]? hostData = null;
            if (root.TryGetProperty("hostData", out JsonElement hostDataElement) && hostDataElement.ValueKind != JsonValueKind.Null
                && !TryHex(hostDataElement, 32, out hostData))
            {
                return AttestationPolicyParseResult.Failure("'hostData' must be null or a 64-digit hex string");
            }

            if (!root.TryGetProperty("minimumTcb", out JsonElement tcbElement) || tcbElement.ValueKind != JsonValueKind.Object)
            {
                return AttestationPolicyParseResult.Failure("'minimumTcb' must be an object");
            }

            foreach (JsonProperty p in tcbElement.EnumerateObject())
            {
                if (!KnownTcbProperties.Contains(p.Name))
                {
                    return AttestationPolicyParseResult.Failure($"unknown property 'minimumTcb.{p.Name}'");
                }
            }

            if (!TryByte(tcbElement, "bootloader", out byte bl) || !TryByte(tcbElement, "tee", out byte tee)
                || !TryByte(tcbElement, "snp", out byte snp) || !TryByte(tcbElement, "microcode", out byte ucode))
            {
                return AttestationPolicyParseResult.Failure("'minimumTcb' needs bootloader, tee, snp and microcode as integers 0–255");
            }

            byte fmc = 0;
            if (tcbElement.TryGetProperty("fmc", out _) && !TryByte(tcbElement, "fmc", out fmc))
            {
                return AttestationPolicyParseResult.Failure("'minimumTcb.fmc' must be an integer 0–255");
            }

            uint minimumGuestSvn = 0;
            if (root.TryGetProperty("minimumGuestSvn", out _) && !TryUInt(root, "minimumGuestSvn", out minimumGuestSvn))
            {
                return AttestationPolicyParseResult.Failure("'minimumGuestSvn' must be a non-negative integer");
            }

            if (!TryUInt(root, "vmpl", out uint vmpl) || vmpl > 3)
            {
                return AttestationPolicyParseResult.Failure("'vmpl' must be an integer 0–3");
            }

            if (!TryString(root, "issuer", out string? issuer)
                || !Uri.TryCreate(issuer, UriKind.Absolute, out Uri? issuerUri) || issuerUri.Scheme != Uri.UriSchemeHttps
                || issuer.EndsWith('/'))
            {
                return AttestationPolicyParseResult.Failure("'issuer' must be an absolute https URL without a trailing slash");
            }

            if (rootOfTrust == AttestationRootOfTrust.Amd && issuerUri.Host.EndsWith(".invalid", StringComparison.OrdinalIgnoreCase))
            {
                return AttestationPolicyParseResult.Failure("a policy rooted in real AMD hardware cannot use a .invalid (simulated) issuer");
            }

            if (rootOfTrust == AttestationRootOfTrust.SimulatedAmd && !issuerUri.Host.StartsWith("simulated", StringComparison.OrdinalIgnoreCase))
            {
                return AttestationPolicyParseResult.Failure("a simulated policy's issuer host must start with 'simulated' so its tokens are unmistakable");
            }

            if (!TryUInt(root, "tokenLifetimeSeconds", out uint lifetime) || lifetime < 60 || lifetime > MaxTokenLifetimeSeconds)
            {
                return AttestationPolicyParseResult.Failure($"'tokenLifetimeSeconds' must be an integer 60–{MaxTokenLifetimeSeconds}");
            }

            string hash = Internal.Jose.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
            return AttestationPolicyParseResult.Success(new AttestationPolicy(
                name, rootOfTrust, allowDebug, allowMigration, measurements, hostData, new MinimumTcb(bl, tee, snp, ucode, fmc),
                minimumGuestSvn, vmpl, issuer, (int)lifetime, hash));
        }
        catch (JsonException)
        {
            return AttestationPolicyParseResult.Failure("the policy is not valid JSON (or repeats a property)");
        }
    }

    /// <summary>Reads and parses a policy file; an unreadable file is a failed parse.</summary>
    public static AttestationPolicyParseResult Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return AttestationPolicyParseResult.Failure($"the policy file could not be read ({e.GetType().Name})");
        }
    }

    /// <summary>
    /// Evaluates verified evidence: the root must match <see cref="RootOfTrust"/>, then the report
    /// checks of <see cref="Evaluate(SnpReport, ReadOnlySpan{byte})"/> apply.
    /// </summary>
    public PolicyEvaluationResult Evaluate(SnpVerificationResult evidence, ReadOnlySpan<byte> runtimeDataSha256)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (!evidence.IsValid)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.EvidenceInvalid, $"the evidence did not verify ({evidence.ErrorCode})");
        }

        bool wantSimulated = RootOfTrust == AttestationRootOfTrust.SimulatedAmd;
        if (evidence.IsSimulatedRoot != wantSimulated)
        {
            return PolicyEvaluationResult.Denied(
                AttestationPolicyErrorCodes.RootOfTrustMismatch,
                evidence.IsSimulatedRoot ? $"policy '{Name}' requires real AMD hardware; the evidence chains to a simulated root" : $"policy '{Name}' is for simulated hardware only");
        }

        return Evaluate(evidence.Report, runtimeDataSha256);
    }

    /// <summary>
    /// Checks a report's fields in a fixed order: guest policy bits, debug, migration, measurement,
    /// host data, TCB, VMPL, guest SVN, and the report-data binding. Does not check who signed it.
    /// </summary>
    public PolicyEvaluationResult Evaluate(SnpReport report, ReadOnlySpan<byte> runtimeDataSha256)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Policy.HasUndefinedBits)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.UndefinedPolicyBits, $"guest policy 0x{report.Policy.Raw:x} sets bits this verifier does not understand");
        }

        if (report.Policy.Debug && !AllowDebug)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.DebugNotAllowed, $"the VM is debuggable (guest policy bit 19) and policy '{Name}' forbids debug");
        }

        if (report.Policy.MigrateMa && !AllowMigration)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.MigrationNotAllowed, $"the VM allows a migration agent (guest policy bit 18) and policy '{Name}' forbids migration");
        }

        string measurement = Convert.ToHexStringLower(report.Measurement.Span);
        if (!_measurements.Contains(measurement))
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.MeasurementNotAllowed, $"launch measurement {measurement} is not in the allow-list of policy '{Name}'");
        }

        if (_hostData is not null && !report.HostData.Span.SequenceEqual(_hostData))
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.HostDataMismatch, "HOST_DATA differs from the value the policy requires");
        }

        if (report.TcbLayout == SnpTcbLayout.Unknown)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.TcbLayoutUnknown, "the TCB layout is unknown; evaluate verified evidence so the VCEK settles the product line");
        }

        if (!MinimumTcb.IsSatisfiedBy(report.ReportedTcb) || !MinimumTcb.IsSatisfiedBy(report.CurrentTcb))
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.TcbTooLow, $"TCB (reported {report.ReportedTcb}) is below the policy minimum");
        }

        if (report.Vmpl != Vmpl)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.VmplMismatch, $"report VMPL is {report.Vmpl}, policy requires {Vmpl}");
        }

        if (report.GuestSvn < MinimumGuestSvn)
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.GuestSvnTooLow, $"guest SVN {report.GuestSvn} is below the policy minimum {MinimumGuestSvn}");
        }

        ReadOnlySpan<byte> reportData = report.ReportData.Span;
        if (runtimeDataSha256.Length != SHA256.HashSizeInBytes
            || !CryptographicOperations.FixedTimeEquals(reportData[..32], runtimeDataSha256)
            || reportData[32..].ContainsAnyExcept((byte)0))
        {
            return PolicyEvaluationResult.Denied(AttestationPolicyErrorCodes.ReportDataMismatch, "REPORT_DATA is not SHA-256(runtime data) followed by 32 zero bytes");
        }

        return PolicyEvaluationResult.Allowed;
    }

    private static bool TryString(JsonElement obj, string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = obj.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        return value is not null;
    }

    private static bool TryBool(JsonElement obj, string name, out bool value)
    {
        value = false;
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        value = e.GetBoolean();
        return true;
    }

    private static bool TryUInt(JsonElement obj, string name, out uint value)
    {
        value = 0;
        return obj.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetUInt32(out value);
    }

    private static bool TryByte(JsonElement obj, string name, out byte value)
    {
        value = 0;
        return obj.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetByte(out value);
    }

    private static bool TryHex(JsonElement e, int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (e.ValueKind != JsonValueKind.String || e.GetString() is not { } s || s.Length != length * 2)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(s);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

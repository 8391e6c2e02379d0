using System.Runtime.InteropServices;
using CleanRoom.Attestation;
using CleanRoom.Enclave;

if (args.Length == 0 || args[0] is "--help" or "-h")
{
    Console.WriteLine("""
        cleanroom-enclave: runs approved computations inside a confidential VM.
          cleanroom-enclave sim-hardware --dir DIR
              create a simulated AMD platform (ARK/ASK/VCEK chain and keys, mode 0600) for local mode
          cleanroom-enclave run --server URL --simulated --sim-amd DIR [--memory-limit 4GB] [--max-jobs N]
              attest, then claim and run jobs until stopped (local mode: simulated evidence, local authority and broker)
          cleanroom-enclave run --server URL --evidence tsm --attestation-policy FILE
                                [--tsm-root DIR] [--vcek-chain FILE] [--maa URL]
                                [--key-vault URL [--key-vault-roots FILE] [--key-vault-signer FILE]]
              real SEV-SNP evidence via configfs-tsm; --maa / --key-vault switch to Azure Attestation /
              Key Vault (DefaultAzureCredential); Azure never accepts simulated evidence. Key Vault
              release responses must verify under an x5c chain to the PEM roots of --key-vault-roots
              and/or the pinned PEM key or certificate of --key-vault-signer (both given: both must hold)
        """);
    return 0;
}

// Every option is checked before anything runs: a misspelt one (say --memory-limt) must not fall back silently to a default.
string[] valueOptions = args[0] switch
{
    "sim-hardware" => ["--dir"],
    "run" => ["--server", "--evidence", "--tsm-root", "--vcek-chain", "--maa", "--key-vault", "--key-vault-signer", "--key-vault-roots",
        "--attestation-policy", "--sim-amd", "--memory-limit", "--max-jobs"],
    _ => [],
};
string[] flagOptions = args[0] == "run" ? ["--simulated"] : [];
var given = new HashSet<string>(StringComparer.Ordinal);
for (var i = 1; i < args.Length; i++)
{
    if (flagOptions.Contains(args[i]))
    {
        continue;
    }

    if (!valueOptions.Contains(args[i]))
    {
        Console.Error.WriteLine($"cleanroom-enclave: unknown option '{args[i]}' for '{args[0]}' (see --help)");
        return 2;
    }

    // Only the first of two values would be read: refused rather than one of them silently ignored.
    if (!given.Add(args[i]))
    {
        Console.Error.WriteLine($"cleanroom-enclave: {args[i]} is given more than once");
        return 2;
    }

    if (++i >= args.Length || args[i].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"cleanroom-enclave: {args[i - 1]} needs a value");
        return 2;
    }
}

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

switch (args[0])
{
    case "sim-hardware":
        var dir = Option("--dir");
        if (dir is null)
        {
            Console.Error.WriteLine("cleanroom-enclave: sim-hardware needs --dir DIR");
            return 2;
        }

        using (var platform = SimulatedAmdPlatform.Create())
        {
            platform.Save(dir);
        }

        Console.WriteLine($"simulated AMD platform written to {dir} (SIMULATED root of trust; production policies refuse it)");
        return 0;
    case "run":
        var server = Option("--server");
        if (server is null || !Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var serverUri))
        {
            Console.Error.WriteLine("cleanroom-enclave: run needs --server URL");
            return 2;
        }

        Uri? maa = null, vault = null;
        if ((Option("--maa") is { } maaText && !Uri.TryCreate(maaText, UriKind.Absolute, out maa))
            || (Option("--key-vault") is { } vaultText && !Uri.TryCreate(vaultText, UriKind.Absolute, out vault)))
        {
            Console.Error.WriteLine("cleanroom-enclave: --maa and --key-vault take absolute https URLs");
            return 2;
        }

        var maxJobs = 0; // 0: until stopped
        if (Option("--max-jobs") is { } maxText
            && (!int.TryParse(maxText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxJobs) || maxJobs < 1))
        {
            Console.Error.WriteLine("cleanroom-enclave: --max-jobs takes a whole number of jobs, at least 1");
            return 2;
        }

        var options = new EnclaveOptions
        {
            Server = serverUri,
            Simulated = args.Contains("--simulated"),
            Evidence = Option("--evidence") ?? "simulated",
            TsmRoot = Option("--tsm-root") ?? ConfigFsTsmEvidenceSource.DefaultRoot,
            VcekChainFile = Option("--vcek-chain"),
            AttestationEndpoint = maa,
            KeyVault = vault,
            KeyVaultSignerFile = Option("--key-vault-signer"),
            KeyVaultRootsFile = Option("--key-vault-roots"),
            AttestationPolicyFile = Option("--attestation-policy"),
            SimulatedAmdDirectory = Option("--sim-amd"),
            MemoryLimit = Option("--memory-limit") ?? "4GB",
            MaxJobs = maxJobs,
        };

        using (var cts = new CancellationTokenSource())
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); }))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); }))
        {
            return await new EnclaveHost(options, Console.Out, TimeProvider.System).RunAsync(cts.Token);
        }

    default:
        Console.Error.WriteLine($"cleanroom-enclave: unknown command '{args[0]}' (see --help)");
        return 2;
}

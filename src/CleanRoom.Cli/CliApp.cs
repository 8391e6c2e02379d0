using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Spectre.Console;

namespace CleanRoom.Cli;

/// <summary>The `cleanroom` command line: one sub-command per thing a party does.</summary>
internal static class CliApp
{
    private static readonly Option<string> s_server = new("--server")
    {
        Description = "server URL (default: $CLEANROOM_SERVER)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLEANROOM_SERVER") ?? string.Empty,
    };

    private static readonly Option<string> s_keys = new("--keys")
    {
        Description = "directory holding party key files (default: $CLEANROOM_KEYS or ~/.cleanroom/keys)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLEANROOM_KEYS")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cleanroom", "keys"),
    };

    private static readonly Option<bool> s_json = new("--json") { Description = "machine-readable JSON output", Recursive = true };

    private static readonly Option<string> s_as = new("--as") { Description = "the party acting (its key file must be in --keys)", Required = true };

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("cleanroom: the parties' tool for a confidential-computing data clean room")
        {
            s_server, s_keys, s_json,
            KeysCommand(), ContractCommand(), DatasetCommand(), ComputationCommand(), RunCommand(), JobCommand(),
            ResultCommand(), AuditCommand(), ConsentCommand.Create(s_as), BudgetCommand.Create(s_as), AttestationCommand.Create(), DemoCommand.Create(),
        };
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary>Wraps a command body: expected failures print one line and exit 1.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> body) => async (pr, ct) =>
    {
        try
        {
            return await body(pr, ct);
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync($"cleanroom: {ex.Message} [{ex.Code}]");
            return 1;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"cleanroom: the server is unreachable ({ex.Message})");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync($"cleanroom: {ex.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    };

    internal static ApiClient Api(ParseResult pr)
    {
        var server = pr.GetValue(s_server);
        if (string.IsNullOrEmpty(server) || !Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var uri))
        {
            throw new CliException("no server: pass --server URL or set CLEANROOM_SERVER", "cli.no_server");
        }

        return new ApiClient(uri, LoadParty(pr.GetValue(s_keys)!, pr.GetValue(s_as)!));
    }

    internal static PartyKeys LoadParty(string keysDir, string name)
    {
        if (!PartyIdentity.IsValidName(name))
        {
            throw new CliException($"'{name}' is not a valid party name", "cli.bad_party");
        }

        if (!File.Exists(Path.Combine(keysDir, name + ".keys.json")))
        {
            throw new CliException($"no key file for party '{name}' in {keysDir} (run: cleanroom keys create --name {name})", "cli.no_keys");
        }

        return PartyKeys.Load(keysDir, name);
    }

    /// <summary>Prints a decrypted result table; only ever called for the recipient who decrypted it.</summary>
    internal static void PrintTable(ResultTable output, string? title = null)
    {
        var table = new Table();
        if (title is not null)
        {
            table.Title(title);
        }

        foreach (var c in output.Columns)
        {
            table.AddColumn(Markup.Escape(c));
        }

        foreach (var row in output.Rows)
        {
            table.AddRow(row.Select(v => Markup.Escape(v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())).ToArray());
        }

        AnsiConsole.Write(table);
    }

    internal static void PrintJson<T>(T value) =>
        Console.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }));

    private static Command KeysCommand()
    {
        var name = new Option<string>("--name") { Description = "party name (a-z, 0-9, '-', '_')", Required = true };
        var create = new Command("create", "create a party's Ed25519 signing and X25519 encryption keys (private file mode 0600)") { name };
        create.SetAction(Guard((pr, _) =>
        {
            var dir = pr.GetValue(s_keys)!;
            var n = pr.GetValue(name)!;
            if (!PartyIdentity.IsValidName(n))
            {
                throw new CliException($"'{n}' is not a valid party name (a-z, 0-9, '-', '_', starting with a letter)", "cli.bad_party");
            }

            if (File.Exists(Path.Combine(dir, n + ".keys.json")))
            {
                throw new CliException($"keys for '{n}' already exist in {dir}; refusing to overwrite them", "keys.exist");
            }

            using var keys = PartyKeys.Create(n);
            keys.Save(dir);
            if (pr.GetValue(s_json))
            {
                PrintJson(keys.Identity);
            }
            else
            {
                Console.WriteLine($"created keys for '{n}' in {dir} (key id {keys.Id})");
            }

            return Task.FromResult(0);
        }));
        return new Command("keys", "manage party keys") { create };
    }

    private static Command ContractCommand()
    {
        var file = new Option<string>("--file") { Description = "contract JSON file", Required = true };
        var draft = new Command("draft", "submit a contract (as its contract manager)") { file, s_as };
        draft.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var ack = await PartyOperations.DraftContractAsync(api, await File.ReadAllBytesAsync(pr.GetValue(file)!, ct), ct);
            Output(pr, ack, $"contract '{ack.Id}' drafted (hash {ack.Hash}); every party must now sign it");
            return 0;
        }));

        var id = new Option<string>("--contract") { Description = "contract id", Required = true };
        var sign = new Command("sign", "sign the contract's canonical hash with your key") { id, s_as };
        sign.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var ack = await PartyOperations.SignContractAsync(api, pr.GetValue(id)!, ct);
            Output(pr, ack, $"signed contract '{ack.Id}'; it is now {ack.State}");
            return 0;
        }));

        var show = new Command("show", "show parties, roles, signatures, datasets and state") { id, s_as };
        show.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var view = await api.GetAsync<ContractView>($"api/contracts/{pr.GetValue(id)}", ct);
            if (pr.GetValue(s_json))
            {
                PrintJson(view);
                return 0;
            }

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(view.Contract.Title)}[/] ({Markup.Escape(view.Contract.Id)} v{view.Contract.Version}) — [bold]{view.State}[/], hash {view.Hash[..16]}…");
            var table = new Table().AddColumns("party", "roles", "signed");
            foreach (var p in view.Contract.Parties)
            {
                table.AddRow(Markup.Escape(p.Name), Markup.Escape(string.Join(", ", p.Roles)), view.Signatures.Any(s => s.Party == p.Name) ? "yes" : "no");
            }

            AnsiConsole.Write(table);
            var datasets = new Table().AddColumns("dataset", "owner", "state", "ciphertext sha256");
            foreach (var d in view.Datasets)
            {
                datasets.AddRow(Markup.Escape(d.Name), Markup.Escape(d.Owner), d.State, d.CiphertextSha256 ?? "-");
            }

            AnsiConsole.Write(datasets);
            return 0;
        }));
        var reason = new Option<string?>("--reason") { Description = "why (recorded in the audit log)" };
        var terminate = new Command("terminate", "end an active contract for good (as its contract manager): no new computation, vote, run or key release; queued and running jobs are cancelled") { id, reason, s_as };
        terminate.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var result = await PartyOperations.TerminateContractAsync(api, pr.GetValue(id)!, pr.GetValue(reason), ct);
            Output(pr, result, $"contract '{result.Id}' is {result.State}" + (result.CancelledJobs.Count > 0 ? $"; cancelled job(s) {string.Join(", ", result.CancelledJobs)}" : string.Empty));
            return 0;
        }));
        return new Command("contract", "draft, sign, inspect and terminate contracts") { draft, sign, show, terminate };
    }

    private static Command DatasetCommand()
    {
        var kind = new Option<string>("--kind") { Description = "purchases or exposures", Required = true };
        var rows = new Option<long>("--rows") { Description = "number of rows", DefaultValueFactory = _ => 100_000 };
        var output = new Option<string>("--out") { Description = "output CSV file", Required = true };
        var generate = new Command("generate", "generate a synthetic demo dataset (CSV)") { kind, rows, output };
        generate.SetAction(Guard((pr, _) =>
        {
            var path = pr.GetValue(output)!;
            switch (pr.GetValue(kind))
            {
                case "purchases": DemoData.WritePurchases(path, pr.GetValue(rows)); break;
                case "exposures": DemoData.WriteExposures(path, pr.GetValue(rows)); break;
                default: throw new CliException("--kind must be purchases or exposures", "cli.bad_kind");
            }

            Console.WriteLine($"wrote {pr.GetValue(rows)} rows to {path}");
            return Task.FromResult(0);
        }));

        var contract = new Option<string>("--contract") { Description = "contract id", Required = true };
        var name = new Option<string>("--name") { Description = "dataset name as declared in the contract", Required = true };
        var file = new Option<string>("--file") { Description = "plaintext CSV or Parquet file", Required = true };
        var publish = new Command("publish", "encrypt a dataset client-side and publish only ciphertext and the wrapped key") { contract, name, file, s_as };
        publish.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var source = pr.GetValue(file)!;
            var work = Path.GetDirectoryName(Path.GetFullPath(source))!;
            PublishedDataset? result = null;
            await WithProgressAsync(pr, async progress =>
                result = await PartyOperations.PublishDatasetAsync(api, pr.GetValue(contract)!, pr.GetValue(name)!, source, work, progress, ct));
            Output(pr, result!, $"published '{result!.Name}': {result.CiphertextLength} bytes of ciphertext, sha256 {result.CiphertextSha256}");
            return 0;
        }));
        return new Command("dataset", "generate and publish datasets") { generate, publish };
    }

    private static Command ComputationCommand()
    {
        var contract = new Option<string>("--contract") { Description = "contract id", Required = true };
        var id = new Option<string>("--id") { Description = "computation id", Required = true };
        var sqlFile = new Option<string>("--sql-file") { Description = "file with the SQL (one SELECT)", Required = true };
        var k = new Option<int>("--k") { Description = "minimum distinct privacy units per output group", DefaultValueFactory = _ => 10 };
        var recipients = new Option<string[]>("--recipient") { Description = "result recipient party (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var privacyFile = new Option<string?>("--privacy-file") { Description = "JSON privacy specification, e.g. {\"mode\":\"dp\",\"dp\":{…}} (replaces --k)" };
        var propose = new Command("propose", "propose a computation (as an analyst)") { contract, id, sqlFile, k, privacyFile, recipients, s_as };
        propose.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var view = await api.GetAsync<ContractView>($"api/contracts/{pr.GetValue(contract)}", ct);
            var computation = new ComputationDocument
            {
                Id = pr.GetValue(id)!,
                ContractId = view.Contract.Id,
                ContractHash = view.Hash,
                Sql = await File.ReadAllTextAsync(pr.GetValue(sqlFile)!, ct),
                Privacy = pr.GetValue(privacyFile) is { } file ? await ReadPrivacyFileAsync(file, ct) : new PrivacySpec(PrivacySpec.AggregateMode, pr.GetValue(k)),
                Recipients = pr.GetValue(recipients)!,
                ProposedBy = api.Party.Name,
            };
            var result = await PartyOperations.ProposeAsync(api, computation, ct);
            Output(pr, result, $"proposed '{result.Computation.Id}' (hash {result.Hash[..16]}…); approvals needed from: {string.Join(", ", result.RequiredApprovers)}\n{result.AnalysisSummary}");
            return 0;
        }));

        var computationId = new Option<string>("--computation") { Description = "computation id", Required = true };
        var reject = new Option<bool>("--reject") { Description = "vote to reject (a single rejection vetoes)" };
        var approve = new Command("approve", "sign an approval (or, with --reject, a veto) over the computation's exact hash") { computationId, reject, s_as };
        approve.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var (view, ack) = await PartyOperations.VoteAsync(api, pr.GetValue(computationId)!, pr.GetValue(reject) ? VoteStatement.Reject : VoteStatement.Approve, ct);
            Output(pr, ack, $"{(pr.GetValue(reject) ? "rejected" : "approved")} '{view.Computation.Id}' — {view.AnalysisSummary}\ncomputation is now {ack.State}");
            return 0;
        }));

        var show = new Command("show", "show a computation, its analysis and votes") { computationId, s_as };
        show.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var view = await api.GetAsync<ComputationView>($"api/computations/{pr.GetValue(computationId)}", ct);
            Output(pr, view, $"{view.Computation.Id}: {view.State}; approvers {string.Join(", ", view.RequiredApprovers)}; voted {string.Join(", ", view.Votes.Select(v => v.Party))}\n{DescribePrivacy(view.Computation.Privacy)}\n{view.AnalysisSummary}\n{view.Computation.Sql}");
            return 0;
        }));
        return new Command("computation", "propose, approve and inspect computations") { propose, approve, show };
    }

    private static async Task<PrivacySpec> ReadPrivacyFileAsync(string path, CancellationToken ct)
    {
        try
        {
            return JsonSerializer.Deserialize<PrivacySpec>(await File.ReadAllBytesAsync(path, ct), CanonicalJson.SerializerOptions)
                ?? throw new CliException($"privacy file {path} is empty", "cli.bad_privacy_file");
        }
        catch (JsonException)
        {
            throw new CliException($"privacy file {path} is not a JSON privacy specification ({{\"mode\":\"aggregate\",\"minDistinctUnits\":10}} or {{\"mode\":\"dp\",\"dp\":{{…}}}})", "cli.bad_privacy_file");
        }
    }

    /// <summary>One line naming the approved privacy parameters (what approvers sign).</summary>
    internal static string DescribePrivacy(PrivacySpec privacy)
    {
        if (privacy.Mode != PrivacySpec.DpMode || privacy.Dp is not { } dp)
        {
            return $"privacy: {privacy.Mode}, k = {privacy.MinDistinctUnits} distinct units per group";
        }

        var bounds = dp.Bounds.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Column} in [{b.Lower}, {b.Upper}] step {b.Granularity}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"privacy: dp, ε = {dp.Epsilon}, δ = {dp.Delta}, max groups per unit = {dp.MaxGroupsContributed}, unit table {dp.UnitTable ?? "(first in FROM)"}, bounds {string.Join("; ", bounds)}, {(dp.PublicGroups is { } groups ? $"{groups.Count} public group(s)" : "private partition selection")}");
    }

    private static Command RunCommand()
    {
        var computationId = new Option<string>("--computation") { Description = "computation id", Required = true };
        var parameters = new Option<string[]>("--param") { Description = "parameter as name=value (repeatable)", AllowMultipleArgumentsPerToken = true };
        var wait = new Option<bool>("--wait") { Description = "wait until the job ends" };
        var run = new Command("run", "run an approved computation (as an analyst)") { computationId, parameters, wait, s_as };
        run.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in pr.GetValue(parameters) ?? [])
            {
                var eq = p.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CliException($"parameter '{p}' is not name=value", "cli.bad_parameter");
                }

                values[p[..eq]] = p[(eq + 1)..];
            }

            var job = await PartyOperations.RunAsync(api, pr.GetValue(computationId)!, values, ct);
            if (pr.GetValue(wait))
            {
                job = await WithSpinnerAsync(pr, $"job {job.Id}: running in the enclave", () => PartyOperations.WaitAsync(api, job.Id, TimeSpan.FromHours(1), ct));
            }

            Output(pr, job, $"job {job.Id}: {job.State}" + (job.Reason is null ? string.Empty : $" ({job.Reason})"));
            // A job that ended without a result (refused, failed or cancelled) is a failure of the command.
            return job.State is "failed" or "refused" or "cancelled" ? 1 : 0;
        }));
        return run;
    }

    private static Command JobCommand()
    {
        var jobId = new Option<string>("--job") { Description = "job id", Required = true };
        var show = new Command("show", "show a job's state") { jobId, s_as };
        show.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var job = await api.GetAsync<JobView>($"api/jobs/{pr.GetValue(jobId)}", ct);
            Output(pr, job, $"job {job.Id}: {job.State}" + (job.Reason is null ? string.Empty : $" ({job.Reason})"));
            return 0;
        }));
        return new Command("job", "inspect jobs") { show };
    }

    private static Command ResultCommand()
    {
        var jobId = new Option<string>("--job") { Description = "job id", Required = true };
        var output = new Option<string>("--out") { Description = "where to save the result bundle", Required = true };
        var fetch = new Command("fetch", "fetch a signed result bundle (as a result recipient)") { jobId, output, s_as };
        fetch.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var bundle = await api.GetAsync<ResultBundle>($"api/jobs/{pr.GetValue(jobId)}/result", ct);
            await File.WriteAllTextAsync(pr.GetValue(output)!, JsonSerializer.Serialize(bundle, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);
            Console.WriteLine($"saved result bundle of job {pr.GetValue(jobId)} to {pr.GetValue(output)}");
            return 0;
        }));

        var file = new Argument<string>("file") { Description = "result bundle file" };
        var policy = new Option<string?>("--policy") { Description = "attestation policy name (default: the contract's)" };
        var policies = new Option<string>("--policies") { Description = "attestation-policies directory", DefaultValueFactory = _ => "attestation-policies" };
        var resultServerKey = new Option<string?>("--server-key") { Description = "pin the server key that must sign the audit checkpoint (base64url)" };
        var recipient = new Option<string?>("--as") { Description = "the result recipient decrypting the output (its key file must be in --keys)" };
        var authorityJwks = new Option<string?>("--jwks") { Description = "pin the attestation authority's keys: a JWKS file (the issuer's /certs, fetched yourself); required under a production policy" };
        var verify = new Command("verify", "verify a result offline: signature, attestation, approvals, data digests, the decrypted output, audit inclusion; exit 0 only if all pass") { file, policy, policies, resultServerKey, recipient, authorityJwks };
        verify.SetAction(Guard(async (pr, ct) =>
        {
            using var keys = pr.GetValue(recipient) is { } name ? LoadParty(pr.GetValue(s_keys)!, name) : null;
            var (ok, verification) = await VerifyResultFileAsync(pr.GetValue(file)!, pr.GetValue(policy), pr.GetValue(policies)!, pr.GetValue(s_json), ct, pr.GetValue(resultServerKey), keys, pr.GetValue(authorityJwks));
            if (ok && !pr.GetValue(s_json) && verification?.Output is { } table)
            {
                PrintTable(table);
            }

            return ok ? 0 : 1;
        }));
        return new Command("result", "fetch and verify results") { fetch, verify };
    }

    internal static async Task<(bool Ok, ResultVerification? Verification)> VerifyResultFileAsync(string path, string? policyName, string policiesDir, bool json, CancellationToken ct, string? pinnedServerKey = null, PartyKeys? recipient = null, string? authorityJwksPath = null)
    {
        string? authorityJwks = null;
        if (authorityJwksPath is not null)
        {
            try
            {
                authorityJwks = await File.ReadAllTextAsync(authorityJwksPath, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"the authority keys file {authorityJwksPath} cannot be read: {ex.Message}", "jwks.unreadable");
            }
        }

        ResultBundle? bundle;
        try
        {
            bundle = JsonSerializer.Deserialize<ResultBundle>(await File.ReadAllBytesAsync(path, ct), ResultVerifier.StrictOptions);
        }
        catch (JsonException)
        {
            bundle = null;
        }

        // The nullable annotations do not reach list elements, which the checks read one by one.
        if (bundle is null || bundle.ContractSignatures.Contains(null!) || bundle.Votes.Contains(null!) || bundle.RequiredApprovers.Contains(null!)
            || bundle.Datasets.Contains(null!) || bundle.Contract.Parties.Contains(null!) || bundle.Contract.Datasets.Contains(null!))
        {
            throw new CliException($"{path} is not a result bundle", "result.malformed");
        }

        // The name comes from the bundle unless --policy gives it: a name, never a path ("../x" or "/etc/x" would load any file).
        var name = policyName ?? bundle.Contract.AttestationPolicy;
        if (!PartyIdentity.IsValidName(name))
        {
            throw new CliException(policyName is null ? "the attestation policy the bundle's contract names is not a policy name" : $"--policy must name a policy in {policiesDir}, not a path", "policy.unusable");
        }

        var parsed = AttestationPolicy.Load(Path.Combine(policiesDir, name + ".json"));
        if (!parsed.IsValid)
        {
            throw new CliException($"attestation policy '{name}' cannot be used: {parsed.Reason}", "policy.unusable");
        }

        var verification = ResultVerifier.Verify(bundle, parsed.Policy!, DateTimeOffset.UtcNow, pinnedServerKey, recipient, authorityJwks);
        if (json)
        {
            PrintJson(new { valid = verification.IsValid, simulated = verification.Simulated, checks = verification.Checks });
        }
        else
        {
            foreach (var c in verification.Checks)
            {
                Console.WriteLine($"{(c.Passed ? "PASS" : "FAIL")}  {c.Name}: {c.Detail}");
            }

            Console.WriteLine(verification.IsValid
                ? $"result verify: PASS{(verification.Simulated ? " (SIMULATED attestation)" : string.Empty)}"
                : "result verify: FAIL");
        }

        return (verification.IsValid, verification);
    }

    private static Command AuditCommand()
    {
        var contract = new Option<string>("--contract") { Description = "contract id", Required = true };
        var output = new Option<string>("--out") { Description = "where to save the export", Required = true };
        var export = new Command("export", "export the audit log with the server's signed checkpoint") { contract, output, s_as };
        export.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var log = await api.GetAsync<AuditExport>($"api/contracts/{pr.GetValue(contract)}/audit", ct);
            await File.WriteAllTextAsync(pr.GetValue(output)!, JsonSerializer.Serialize(log, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);
            Console.WriteLine($"saved {log.Entries.Count} audit entries to {pr.GetValue(output)}");
            return 0;
        }));

        var checkpointOut = new Option<string>("--out") { Description = "where to save the signed checkpoint", Required = true };
        var checkpoint = new Command("checkpoint", "save the server's current signed checkpoint, to prove later that the log was not rolled back or forked") { contract, checkpointOut, s_as };
        checkpoint.SetAction(Guard(async (pr, ct) =>
        {
            using var api = Api(pr);
            var signed = await api.GetAsync<SignedAuditCheckpoint>($"api/contracts/{pr.GetValue(contract)}/audit/checkpoint", ct);

            // Refuse to save what could not be verified later.
            var read = AuditVerifier.VerifyCheckpoint(signed);
            var size = read.Checkpoint?.Size ?? 0;
            if (!read.IsValid)
            {
                throw new CliException("the server's checkpoint does not verify: " + read.Reason, read.ErrorCode ?? "audit.checkpoint_signature");
            }

            await File.WriteAllTextAsync(pr.GetValue(checkpointOut)!, JsonSerializer.Serialize(signed, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);
            Output(pr, signed, $"saved the checkpoint of {size} entries signed by {signed.ServerKey[..12]}… to {pr.GetValue(checkpointOut)}");
            return 0;
        }));

        var file = new Option<string?>("--file") { Description = "verify an exported file (offline)" };
        var contractOpt = new Option<string?>("--contract") { Description = "verify the server's current log for this contract" };
        var asOpt = new Option<string?>("--as") { Description = "the party fetching the log from the server" };
        var serverKey = new Option<string?>("--server-key") { Description = "pin the server's checkpoint key (base64url)" };
        var savedOpt = new Option<string?>("--checkpoint") { Description = "a checkpoint saved earlier with 'audit checkpoint': the log must extend it" };
        var verify = new Command("verify", "verify the audit log's hash chain, Merkle root and signed checkpoint, and that it extends a saved checkpoint") { file, contractOpt, asOpt, serverKey, savedOpt };
        verify.SetAction(Guard(async (pr, ct) =>
        {
            SignedAuditCheckpoint? saved = null;
            if (pr.GetValue(savedOpt) is { } savedPath)
            {
                saved = ReadJsonFile<SignedAuditCheckpoint>(savedPath, "a saved audit checkpoint", "audit.saved_checkpoint_malformed");
            }

            AuditExport? log;
            if (pr.GetValue(file) is { } path)
            {
                log = ReadJsonFile<AuditExport>(path, "an audit export", "audit.malformed");
            }
            else if (pr.GetValue(contractOpt) is { } id && pr.GetValue(asOpt) is { } party)
            {
                var server = pr.GetValue(s_server);
                if (string.IsNullOrEmpty(server))
                {
                    throw new CliException("no server: pass --server URL or set CLEANROOM_SERVER", "cli.no_server");
                }

                using var api = new ApiClient(new Uri(server.EndsWith('/') ? server : server + "/"), LoadParty(pr.GetValue(s_keys)!, party));
                log = await api.GetAsync<AuditExport>($"api/contracts/{id}/audit", ct);
                if (saved is not null)
                {
                    // Online: the server's own consistency proof from the saved size to its current checkpoint.
                    var current = await api.GetAsync<SignedAuditCheckpoint>($"api/contracts/{id}/audit/checkpoint", ct);
                    var savedSize = ReadSize(saved);
                    var currentSize = ReadSize(current);
                    var online = savedSize <= currentSize
                        ? AuditVerifier.VerifyConsistency(saved, current, await api.GetAsync<AuditConsistencyProof>($"api/contracts/{id}/audit/consistency?from={savedSize}&to={currentSize}", ct), pr.GetValue(serverKey))
                        : AuditVerifier.VerifyConsistency(saved, current, new AuditConsistencyProof(savedSize, currentSize, []), pr.GetValue(serverKey));
                    if (!PrintAuditVerification(log, pr.GetValue(serverKey), saved, online, pr.GetValue(s_json)))
                    {
                        return 1;
                    }
                }
            }
            else
            {
                throw new CliException("pass --file FILE, or --contract ID --as PARTY to verify the server's log", "cli.usage");
            }

            return PrintAuditVerification(log, pr.GetValue(serverKey), saved, null, pr.GetValue(s_json)) ? 0 : 1;
        }));
        return new Command("audit", "export, checkpoint and verify the audit log") { export, checkpoint, verify };
    }

    private static long ReadSize(SignedAuditCheckpoint signed) =>
        Jws.TryDecode(signed.Checkpoint, out var decoded, out _) && decoded!.Payload.TryGetProperty("size", out var size) && size.TryGetInt64(out var n) ? n : -1;

    private static T ReadJsonFile<T>(string path, string what, string code)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), CanonicalJson.SerializerOptions)
                ?? throw new CliException($"{path} is not {what}", code);
        }
        catch (JsonException)
        {
            throw new CliException($"{path} is not {what}", code);
        }
    }

    internal static bool PrintAuditVerification(AuditExport log, string? pinnedKey, bool json) =>
        PrintAuditVerification(log, pinnedKey, null, null, json);

    /// <summary>
    /// Verifies and prints: <paramref name="online"/>, when given, is the result of checking the
    /// server's consistency proof against <paramref name="saved"/>; otherwise the proof is computed
    /// from the export's entries.
    /// </summary>
    internal static bool PrintAuditVerification(AuditExport log, string? pinnedKey, SignedAuditCheckpoint? saved, AuditVerification? online, bool json)
    {
        var result = online ?? (saved is null ? AuditVerifier.Verify(log, pinnedKey) : AuditVerifier.VerifyExtends(log, saved, pinnedKey));
        var what = online is not null ? "the server's consistency proof" : "the export";
        if (json)
        {
            PrintJson(new { valid = result.IsValid, entries = log.Entries?.Count ?? 0, result.ErrorCode, result.Reason, result.Checkpoint });
        }
        else if (!result.IsValid)
        {
            Console.WriteLine($"audit verify: FAIL — {result.Reason} [{result.ErrorCode}]");
        }
        else if (saved is not null)
        {
            Console.WriteLine($"audit verify: PASS — {what} proves the log of {result.Checkpoint!.Size} entries extends the saved checkpoint of {ReadSize(saved)} entries (no rollback, no fork)");
        }
        else
        {
            Console.WriteLine($"audit verify: PASS — {log.Entries.Count} entries, hash chain intact, Merkle root {result.Checkpoint!.MerkleRoot[..16]}… matches the checkpoint signed by {log.ServerKey[..12]}…");
        }

        return result.IsValid;
    }

    internal static bool WantsJson(ParseResult pr) => pr.GetValue(s_json);

    internal static void Output<T>(ParseResult pr, T value, string text)
    {
        if (pr.GetValue(s_json))
        {
            PrintJson(value);
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    internal static async Task WithProgressAsync(ParseResult pr, Func<IProgress<(string Stage, long Done, long Total)>, Task> work)
    {
        if (pr.GetValue(s_json) || Console.IsOutputRedirected)
        {
            await work(new Progress<(string, long, long)>());
            return;
        }

        await AnsiConsole.Progress().AutoClear(false).StartAsync(async ctx =>
        {
            var tasks = new Dictionary<string, ProgressTask>();
            await work(new SyncProgress(p =>
            {
                if (!tasks.TryGetValue(p.Stage, out var task))
                {
                    task = tasks[p.Stage] = ctx.AddTask(p.Stage, maxValue: Math.Max(1, p.Total));
                }

                task.Value = p.Done;
            }));
        });
    }

    internal static async Task<T> WithSpinnerAsync<T>(ParseResult? pr, string label, Func<Task<T>> work)
    {
        if ((pr is not null && pr.GetValue(s_json)) || Console.IsOutputRedirected)
        {
            return await work();
        }

        return await AnsiConsole.Status().StartAsync(Markup.Escape(label), _ => work());
    }

    /// <summary>Reports synchronously (System.Progress posts to the thread pool and can arrive out of order).</summary>
    internal sealed class SyncProgress(Action<(string Stage, long Done, long Total)> report) : IProgress<(string Stage, long Done, long Total)>
    {
        public void Report((string Stage, long Done, long Total) value) => report(value);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using Spectre.Console;

namespace CleanRoom.Cli;

/// <summary>
/// `cleanroom demo`: starts cleanroom-server and cleanroom-enclave as separate processes on
/// loopback and drives the whole retailer × advertiser scenario through the same operations the
/// CLI commands use. Child processes are stopped on success, failure and Ctrl-C.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var rows = new Option<long>("--rows") { Description = "rows per dataset", DefaultValueFactory = _ => 100_000 };
        var output = new Option<string>("--out") { Description = "output directory (wiped first)", DefaultValueFactory = _ => "demo-output" };
        var serverBin = new Option<string>("--server-bin") { Description = "path to cleanroom-server.dll", Required = true };
        var enclaveBin = new Option<string>("--enclave-bin") { Description = "path to cleanroom-enclave.dll", Required = true };
        var policies = new Option<string>("--policies") { Description = "attestation-policies directory", DefaultValueFactory = _ => "attestation-policies" };
        var command = new Command("demo", "run the two-party clean room end to end on this machine (simulated attestation)") { rows, output, serverBin, enclaveBin, policies };
        command.SetAction(CliApp.Guard(async (pr, ct) =>
        {
            var demo = new DemoRun(Path.GetFullPath(pr.GetValue(output)!), pr.GetValue(rows), Path.GetFullPath(pr.GetValue(serverBin)!), Path.GetFullPath(pr.GetValue(enclaveBin)!), Path.GetFullPath(pr.GetValue(policies)!));
            return await demo.RunAsync(ct);
        }));
        return command;
    }
}

internal sealed class DemoRun(string outDir, long rows, string serverBin, string enclaveBin, string policiesDir)
{
    private readonly List<Process> _children = [];
    private readonly Lock _lock = new();

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (Directory.Exists(outDir))
        {
            Directory.Delete(outDir, recursive: true);
        }

        var keys = Directory.CreateDirectory(Path.Combine(outDir, "keys")).FullName;
        var data = Directory.CreateDirectory(Path.Combine(outDir, "data")).FullName;
        var serverData = Directory.CreateDirectory(Path.Combine(outDir, "server-data")).FullName;
        var simAmd = Path.Combine(outDir, "sim-amd");
        var logs = Directory.CreateDirectory(Path.Combine(outDir, "logs")).FullName;

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopChildren();
        try
        {
            return await ScenarioAsync(keys, data, serverData, simAmd, logs, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("cleanroom demo: interrupted; stopping processes");
            return 130;
        }
        finally
        {
            StopChildren();
        }
    }

    private async Task<int> ScenarioAsync(string keys, string data, string serverData, string simAmd, string logs, CancellationToken ct)
    {
        Step("1/9", "simulated AMD platform (SIMULATED root of trust; refused by production policies)");
        await RunToEndAsync(enclaveBin, ["sim-hardware", "--dir", simAmd], Path.Combine(logs, "sim-hardware.log"), ct);

        Step("2/9", "starting cleanroom-server (SQLite + local blob store, 127.0.0.1, free port)");
        var ready = Path.Combine(serverData, "ready");
        Start(serverBin, ["--data-dir", serverData, "--policies", policiesDir, "--simulated-attestation", "--sim-amd", simAmd, "--ready-file", ready], Path.Combine(logs, "server.log"));
        var url = await WaitForFileAsync(ready, TimeSpan.FromSeconds(60), ct);
        Console.WriteLine($"      server at {url}");

        Step("3/9", "starting cleanroom-enclave (separate process; attests with simulated SEV-SNP evidence)");
        Start(enclaveBin, ["run", "--server", url, "--simulated", "--sim-amd", simAmd], Path.Combine(logs, "enclave.log"));

        Step("4/9", "parties create their keys: retailer, advertiser, manager");
        var parties = new Dictionary<string, PartyKeys>();
        foreach (var name in new[] { "retailer", "advertiser", "manager" })
        {
            var k = PartyKeys.Create(name);
            k.Save(keys);
            parties[name] = k;
        }

        var server = new Uri(url.EndsWith('/') ? url : url + "/");
        ApiClient Api(string name) => new(server, parties[name]);

        Step("5/9", "manager drafts the contract; every party signs its canonical hash");
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.Date, TimeSpan.Zero);
        var contract = DemoData.Contract("retail-media-2026", parties, today, today.AddDays(90));
        var contractJson = JsonSerializer.SerializeToUtf8Bytes(contract, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true });
        await File.WriteAllBytesAsync(Path.Combine(outDir, "contract.json"), contractJson, ct);
        using (var manager = Api("manager"))
        {
            await PartyOperations.DraftContractAsync(manager, contractJson, ct);
        }

        string state = "";
        foreach (var name in parties.Keys)
        {
            using var api = Api(name);
            state = (await PartyOperations.SignContractAsync(api, contract.Id, ct)).State ?? "";
        }

        Console.WriteLine($"      contract '{contract.Id}' is {state}");

        Step("6/9", $"providers generate {rows:N0}-row datasets, encrypt them client-side and publish ciphertext + wrapped key");
        var purchases = Path.Combine(data, "purchases.csv");
        var exposures = Path.Combine(data, "exposures.csv");
        DemoData.WritePurchases(purchases, rows);
        DemoData.WriteExposures(exposures, rows);
        foreach (var (owner, name, file) in new[] { ("retailer", "purchases", purchases), ("advertiser", "exposures", exposures) })
        {
            using var api = Api(owner);
            PublishedDataset? published = null;
            await ProgressAsync($"{name}", async progress => published = await PartyOperations.PublishDatasetAsync(api, contract.Id, name, file, data, progress, ct));
            File.Delete(file); // the plaintext never leaves the provider; the demo does not keep it either
            Console.WriteLine($"      {owner} published '{name}': {published!.CiphertextLength:N0} bytes ciphertext, sha256 {published.CiphertextSha256[..16]}…");
        }

        Step("7/9", "advertiser proposes \"conversions and revenue per campaign and category\"; owners and manager approve");
        var computation = new ComputationDocument
        {
            Id = "conversions-by-campaign",
            ContractId = contract.Id,
            ContractHash = contract.Hash(),
            Sql = DemoData.ConversionsSql,
            Privacy = new PrivacySpec("aggregate", 10),
            Recipients = ["advertiser"],
            ProposedBy = "advertiser",
        };
        // The same query under differential privacy: noisy, bounded per customer, charged against both datasets' budgets.
        var dpComputation = computation with
        {
            Id = "conversions-by-campaign-dp",
            Privacy = new PrivacySpec(PrivacySpec.DpMode) { Dp = DemoData.ConversionsDp },
        };
        foreach (var proposal in new[] { computation, dpComputation })
        {
            using (var analyst = Api("advertiser"))
            {
                var proposed = await PartyOperations.ProposeAsync(analyst, proposal, ct);
                Console.WriteLine($"      {proposal.Id}: {proposed.AnalysisSummary.ReplaceLineEndings(" ")}");
                Console.WriteLine($"      approvals required from: {string.Join(", ", proposed.RequiredApprovers)}");
            }

            foreach (var name in new[] { "manager", "retailer", "advertiser" })
            {
                using var api = Api(name);
                var (_, ack) = await PartyOperations.VoteAsync(api, proposal.Id, VoteStatement.Approve, ct);
                state = ack.State ?? "";
            }

            Console.WriteLine($"      computation '{proposal.Id}' is {state}");
        }

        // The manager keeps a signed checkpoint of the log as it is before the run; the final audit
        // check proves the log still extends it (a rollback or fork would fail).
        using (var manager = Api("manager"))
        {
            var saved = await manager.GetAsync<SignedAuditCheckpoint>($"api/contracts/{contract.Id}/audit/checkpoint", ct);
            await File.WriteAllTextAsync(Path.Combine(outDir, "checkpoint-before-run.json"), JsonSerializer.Serialize(saved, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);

            // The advertiser also keeps the attestation authority's keys, fetched from the authority itself, to pin when it
            // verifies results (a bundle's own JWKS is only the operator's word).
            using var http = new HttpClient { BaseAddress = server };
            await File.WriteAllTextAsync(Path.Combine(outDir, "authority-jwks.json"), await http.GetStringAsync("certs", ct), ct);
        }

        Step("8/9", "advertiser runs both: the enclave attests, obtains the keys, decrypts in memory, runs locked-down DuckDB, applies k = 10 (then the DP pipeline), signs");
        using (var analyst = Api("advertiser"))
        {
            foreach (var (id, file) in new[] { (computation.Id, "result.json"), (dpComputation.Id, "result-dp.json") })
            {
                var job = await PartyOperations.RunAsync(analyst, id, new Dictionary<string, string>(), ct);
                var sw = Stopwatch.StartNew();
                job = await CliApp.WithSpinnerAsync(null, $"job {job.Id}: attest, release keys, decrypt, query, {(id == computation.Id ? "threshold" : "add noise")}, sign", () => PartyOperations.WaitAsync(analyst, job.Id, TimeSpan.FromMinutes(20), ct));
                Console.WriteLine($"      job {job.Id} ({id}): {job.State} in {sw.Elapsed.TotalSeconds:0.0} s" + (job.Reason is null ? string.Empty : $" ({job.Reason})"));
                if (job.State != "finished")
                {
                    Console.WriteLine("FAIL  job did not finish");
                    return 1;
                }

                var bundle = await analyst.GetAsync<ResultBundle>($"api/jobs/{job.Id}/result", ct);
                await File.WriteAllTextAsync(Path.Combine(outDir, file), JsonSerializer.Serialize(bundle, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);
            }

            var audit = await analyst.GetAsync<AuditExport>($"api/contracts/{contract.Id}/audit", ct);
            await File.WriteAllTextAsync(Path.Combine(outDir, "audit.json"), JsonSerializer.Serialize(audit, new JsonSerializerOptions(CanonicalJson.SerializerOptions) { WriteIndented = true }), ct);
        }

        Step("9/9", "advertiser verifies the result and the audit log offline");
        var savedCheckpoint = JsonSerializer.Deserialize<SignedAuditCheckpoint>(await File.ReadAllBytesAsync(Path.Combine(outDir, "checkpoint-before-run.json"), ct), CanonicalJson.SerializerOptions)!;
        var (resultOk, verification) = await CliApp.VerifyResultFileAsync(Path.Combine(outDir, "result.json"), null, policiesDir, json: false, ct, pinnedServerKey: savedCheckpoint.ServerKey, recipient: parties["advertiser"], authorityJwksPath: Path.Combine(outDir, "authority-jwks.json"));
        var auditExport = JsonSerializer.Deserialize<AuditExport>(await File.ReadAllBytesAsync(Path.Combine(outDir, "audit.json"), ct), CanonicalJson.SerializerOptions)!;
        var auditOk = CliApp.PrintAuditVerification(auditExport, null, savedCheckpoint, null, json: false);

        if (verification is { Record: { } record, Output: { } output })
        {
            CliApp.PrintTable(output, "conversions and revenue per campaign and category (k = 10)");
            Console.WriteLine($"Groups with fewer than {record.Privacy.MinDistinctUnits} distinct customers are suppressed (the small 'spring-vip' campaign is not in the table); how many is not reported.");
        }

        var (dpResultOk, dpVerification) = await CliApp.VerifyResultFileAsync(Path.Combine(outDir, "result-dp.json"), null, policiesDir, json: false, ct, pinnedServerKey: savedCheckpoint.ServerKey, recipient: parties["advertiser"], authorityJwksPath: Path.Combine(outDir, "authority-jwks.json"));
        if (dpVerification is { Record: { } dpRecord, Output: { } dpOutput })
        {
            CliApp.PrintTable(dpOutput, string.Create(CultureInfo.InvariantCulture, $"the same under differential privacy (ε = {dpRecord.Privacy.EpsilonCharged}, δ = {dpRecord.Privacy.DeltaCharged}, at most {DemoData.ConversionsDp.MaxGroupsContributed} groups per customer)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Noisy values; groups released only when their noisy customer count clears the selection threshold. ε = {dpRecord.Privacy.EpsilonCharged}, δ = {dpRecord.Privacy.DeltaCharged} charged to purchases and exposures."));
        }

        Console.WriteLine($"{(resultOk ? "PASS" : "FAIL")}  cleanroom result verify {Path.Combine(outDir, "result.json")} --as advertiser --keys {Path.Combine(outDir, "keys")} --server-key {savedCheckpoint.ServerKey} --jwks {Path.Combine(outDir, "authority-jwks.json")}");
        Console.WriteLine($"{(dpResultOk ? "PASS" : "FAIL")}  cleanroom result verify {Path.Combine(outDir, "result-dp.json")} --as advertiser --keys {Path.Combine(outDir, "keys")} --server-key {savedCheckpoint.ServerKey} --jwks {Path.Combine(outDir, "authority-jwks.json")}");
        Console.WriteLine($"{(auditOk ? "PASS" : "FAIL")}  cleanroom audit verify --file {Path.Combine(outDir, "audit.json")} --checkpoint {Path.Combine(outDir, "checkpoint-before-run.json")}");
        Console.WriteLine($"signed result and audit export are in {outDir}/");
        foreach (var k in parties.Values)
        {
            k.Dispose();
        }

        return resultOk && dpResultOk && auditOk ? 0 : 1;
    }

    private static void Step(string n, string text) => AnsiConsole.MarkupLine($"[bold]{n}[/] {Markup.Escape(text)}");

    private static async Task ProgressAsync(string label, Func<IProgress<(string Stage, long Done, long Total)>, Task> work)
    {
        if (Console.IsOutputRedirected)
        {
            await work(new CliApp.SyncProgress(_ => { }));
            return;
        }

        await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            var tasks = new Dictionary<string, ProgressTask>();
            await work(new CliApp.SyncProgress(p =>
            {
                lock (tasks)
                {
                    if (!tasks.TryGetValue(p.Stage, out var task))
                    {
                        task = tasks[p.Stage] = ctx.AddTask($"{label}: {p.Stage}", maxValue: Math.Max(1, p.Total));
                    }

                    task.Value = p.Done;
                }
            }));
        });
    }

    private void Start(string dll, string[] args, string logFile)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new CliException($"could not start {Path.GetFileName(dll)}", "demo.start_failed");
        var log = new StreamWriter(logFile, append: true, Encoding.UTF8) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _children.Add(process);
        }
    }

    private static async Task RunToEndAsync(string dll, string[] args, string logFile, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        await File.WriteAllTextAsync(logFile, await stdout + await stderr, ct);
        if (process.ExitCode != 0)
        {
            throw new CliException($"{Path.GetFileName(dll)} {args[0]} failed (exit {process.ExitCode}); see {logFile}", "demo.step_failed");
        }
    }

    private async Task<string> WaitForFileAsync(string path, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (File.Exists(path) && (await File.ReadAllTextAsync(path, ct)).Trim() is { Length: > 0 } text)
            {
                return text;
            }

            lock (_lock)
            {
                if (_children.Any(c => c.HasExited))
                {
                    throw new CliException($"a demo process exited early; see {Path.Combine(outDir, "logs")}", "demo.process_exited");
                }
            }

            await Task.Delay(100, ct);
        }

        throw new CliException("cleanroom-server did not start in time", "demo.timeout");
    }

    private void StopChildren()
    {
        lock (_lock)
        {
            foreach (var p in _children)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill(entireProcessTree: true);
                        p.WaitForExit(5000);
                    }
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
            }

            _children.Clear();
        }
    }
}

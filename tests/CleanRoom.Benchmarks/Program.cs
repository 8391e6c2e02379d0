using System.Globalization;
using CleanRoom.Benchmarks;

// `make bench`: prints figures; nothing here is asserted. Options:
//   --rows 1000000,10000000   demo query sizes (rows per party)
//   --envelope-mib 256,1024   envelope throughput sizes
//   --merkle 1000000          audit-log entries
//   --only envelope|merkle|demo|dp|attest|audit|revoke
//   --dp-repetitions 3        paired dp/aggregate runs per size (the ratio is their median)
//   --attest 200              attest-and-release round trips
//   --audit 1000000           audit-log entries for the durability/proof/verification figures
//   --revoke 200,30           revocation propagation iterations: key release refused, in-flight job cancelled
string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

var only = Arg("--only");
var work = Path.GetFullPath(Arg("--work") ?? "bench-output");
var output = Console.Out;
output.WriteLine($"CleanRoom benchmarks — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

if (only is null or "envelope")
{
    foreach (var mib in (Arg("--envelope-mib") ?? "256,1024").Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)))
    {
        EnvelopeBench.Run(output, mib * 1024 * 1024);
    }
}

if (only is null or "merkle")
{
    MerkleBench.Run(output, int.Parse(Arg("--merkle") ?? "1000000", CultureInfo.InvariantCulture));
}

if (only is null or "demo")
{
    foreach (var rows in (Arg("--rows") ?? "1000000,10000000").Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)))
    {
        await DemoQueryBench.RunAsync(output, rows, work);
    }
}

if (only is null or "dp")
{
    foreach (var rows in (Arg("--rows") ?? "1000000,10000000").Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)))
    {
        // Three repetitions at every size by default: one 10M-row run of either mode varies by ±15% on a shared 2-core
        // machine, which is more than the difference the 1.3× target asks about; more make the median steadier.
        DpBench.RunQuery(output, rows, work, repetitions: int.Parse(Arg("--dp-repetitions") ?? "3", CultureInfo.InvariantCulture));
    }

    DpBench.RunNoise(output);
}

if (only is null or "attest")
{
    await AttestReleaseBench.RunAsync(output, int.Parse(Arg("--attest") ?? "200", CultureInfo.InvariantCulture));
}

if (only is null or "audit")
{
    await AuditBench.RunAsync(output, int.Parse(Arg("--audit") ?? "1000000", CultureInfo.InvariantCulture));
}

if (only is null or "revoke")
{
    var counts = (Arg("--revoke") ?? "200,30").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
    await RevokeBench.RunAsync(output, counts[0], counts.Length > 1 ? counts[1] : 30);
}

return 0;

using System.Text.Json;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Server;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var options = new ServerOptions();
var urls = "http://127.0.0.1:0";
string? readyFile = null;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--data-dir": options.DataDirectory = Next(); break;
            case "--policies": options.PolicyDirectory = Next(); break;
            case "--simulated-attestation": options.SimulatedAttestation = true; break;
            case "--sim-amd": options.SimulatedAmdDirectory = Next(); break;
            case "--urls": urls = Next(); break;
            case "--ready-file": readyFile = Next(); break;
            case "--job-lease":
                options.JobLease = int.TryParse(Next(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var leaseSeconds) && leaseSeconds is >= 1 and <= 3600
                    ? TimeSpan.FromSeconds(leaseSeconds)
                    : throw new ArgumentException("--job-lease takes whole seconds between 1 and 3600");
                break;
            case "--help" or "-h":
                Console.WriteLine("""
                    cleanroom-server: governance API, key broker, audit log and (simulated mode) attestation authority.
                      --data-dir DIR             SQLite database, ciphertext blobs, server keys (default ./cleanroom-data)
                      --policies DIR             attestation-policies directory (default ./attestation-policies)
                      --simulated-attestation    run the local attestation authority (simulated AMD root; never for production)
                      --sim-amd DIR              simulated AMD platform directory (its ARK is the trusted simulated root)
                      --urls URL                 listen address (default http://127.0.0.1:0, a free loopback port)
                      --ready-file FILE          write the bound URL to FILE once listening
                      --job-lease SECONDS        lease on a claimed job, renewed by the enclave's heartbeat (default 30)
                    """);
                return 0;
            default:
                Console.Error.WriteLine($"cleanroom-server: unknown option '{args[i]}' (see --help)");
                return 2;
        }
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine($"cleanroom-server: {ex.Message}");
        return 2;
    }
}

if (!options.SimulatedAttestation)
{
    Console.Error.WriteLine("cleanroom-server: refused to start: only simulated attestation is available locally; pass --simulated-attestation explicitly");
    return 2;
}

Directory.CreateDirectory(options.DataDirectory);
var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls(urls);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = CanonicalJson.SerializerOptions.PropertyNamingPolicy;
    o.SerializerOptions.TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver();
});
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxCiphertextBytes);
builder.Services.AddOpenApi();
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(_ => new Database(Path.Combine(options.DataDirectory, "cleanroom.db")));
builder.Services.AddSingleton(_ => ServerIdentity.LoadOrCreate(options.DataDirectory));
builder.Services.AddSingleton<Store>();
builder.Services.AddSingleton<AuditLog>();
builder.Services.AddSingleton<RequestAuthenticator>();
builder.Services.AddSingleton<ServerPolicies>();
builder.Services.AddSingleton<ComputationAnalyzer>();
builder.Services.AddSingleton<KeyBroker>();
builder.Services.AddSingleton<LocalAttestation>();
builder.Services.AddSingleton<JobLeases>();
builder.Services.AddHostedService<JobLeaseReaper>();

var app = builder.Build();
app.Use(async (http, next) =>
{
    try
    {
        await next(http);
    }
    catch (ApiException ex)
    {
        await WriteProblemAsync(http, ex.Status, ex.Code, ex.Message);
    }
    catch (BadHttpRequestException ex)
    {
        await WriteProblemAsync(http, ex.StatusCode, "request.bad", "request refused: " + ex.Message);
    }
    catch (Exception ex) when (!http.Response.HasStarted)
    {
        app.Logger.LogError(ex, "unhandled error on {Path}", http.Request.Path);
        await WriteProblemAsync(http, 500, "server.error", "the server failed to process the request; nothing was changed");
    }
});

// Resolve eagerly so a broken policy or key directory stops the server at start, not at first use, with one line that says
// why (no stack trace; no exception here carries key material).
try
{
    _ = app.Services.GetRequiredService<ServerIdentity>();
    _ = app.Services.GetRequiredService<AuditLog>();
    _ = app.Services.GetRequiredService<LocalAttestation>();
    _ = app.Services.GetRequiredService<KeyBroker>();
}
catch (Exception ex)
{
    Console.Error.WriteLine($"cleanroom-server: refused to start: {ex.Message.ReplaceLineEndings(" ")}");
    return 2;
}
GovernanceEndpoints.Map(app);
DatasetEndpoints.Map(app);
JobEndpoints.Map(app);
EnclaveEndpoints.Map(app);
AttestationEndpoints.Map(app);
ConsentEndpoints.Map(app);
BudgetEndpoints.Map(app);
app.MapOpenApi();

await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"cleanroom-server listening on {address}");
if (readyFile is not null)
{
    File.WriteAllText(readyFile, address);
}

await app.WaitForShutdownAsync();
return 0;

static Task WriteProblemAsync(HttpContext http, int status, string code, string detail)
{
    http.Response.StatusCode = status;
    http.Response.ContentType = "application/problem+json";
    var problem = new Problem("https://cleanroom.invalid/problems/" + code, code, status, detail, code);
    return http.Response.WriteAsync(JsonSerializer.Serialize(problem, CanonicalJson.SerializerOptions));
}

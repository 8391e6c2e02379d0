using System.Text.Json;
using CleanRoom.Core;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>Drives <c>cleanroom audit checkpoint</c> and <c>cleanroom audit verify --checkpoint</c> as a party would.</summary>
[Collection(CleanRoomCollection.Name)]
public sealed class AuditCommandTests(CleanRoomFixture f)
{
    private Task<(int ExitCode, string Output)> CliAsync(string keys, params string[] args) =>
        Processes.RunAsync(Processes.CliDll, TimeSpan.FromMinutes(1), ["--server", f.Server.ToString(), "--keys", keys, .. args]);

    // An unsigned request is refused, and every refusal is an audit entry.
    private async Task AppendRefusalAsync()
    {
        using var http = new HttpClient { BaseAddress = f.Server };
        using var response = await http.GetAsync($"api/contracts/{f.Contract.Id}/audit");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_saved_checkpoint_is_extended_by_the_live_log_and_a_rolled_back_export_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("cleanroom-auditcli-").FullName;
        try
        {
            f.Parties["manager"].Save(dir);
            var saved = Path.Combine(dir, "checkpoint.json");
            var (code, output) = await CliAsync(dir, "audit", "checkpoint", "--contract", f.Contract.Id, "--as", "manager", "--out", saved);
            Assert.True(code == 0, output);

            // Something appends, then the party checks the log online and an export offline.
            await AppendRefusalAsync();
            (code, output) = await CliAsync(dir, "audit", "verify", "--contract", f.Contract.Id, "--as", "manager", "--checkpoint", saved);
            Assert.True(code == 0, output);
            Assert.Contains("extends the saved checkpoint", output);

            var export = await f.AuditAsync();
            var exportFile = Path.Combine(dir, "audit.json");
            await File.WriteAllTextAsync(exportFile, JsonSerializer.Serialize(export, CanonicalJson.SerializerOptions));
            (code, output) = await CliAsync(dir, "audit", "verify", "--file", exportFile, "--checkpoint", saved);
            Assert.True(code == 0, output);

            // An export from before the saved checkpoint: consistent alone, but rolled back.
            var signed = JsonSerializer.Deserialize<SignedAuditCheckpoint>(await File.ReadAllBytesAsync(saved), CanonicalJson.SerializerOptions)!;
            var size = AuditVerifier.VerifyCheckpoint(signed).Checkpoint!.Size;
            await AppendRefusalAsync();
            var later = Path.Combine(dir, "later.json");
            (code, output) = await CliAsync(dir, "audit", "checkpoint", "--contract", f.Contract.Id, "--as", "manager", "--out", later);
            Assert.True(code == 0, output);
            (code, output) = await CliAsync(dir, "audit", "verify", "--file", exportFile, "--checkpoint", later);
            Assert.Equal(1, code);
            Assert.Contains("audit.rolled_back", output);
            Assert.True(size > 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

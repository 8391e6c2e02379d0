using System.Text.Json;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// Least privilege: a contract with one single-role party per role, and every action tried by
/// every role against the real server. Each cell is either allowed or refused with a stable code.
/// </summary>
[Collection(CleanRoomCollection.Name)]
public sealed class RoleMatrixTests(CleanRoomFixture f)
{
    private static readonly string[] s_roles = [Roles.ContractManager, Roles.DataProvider, Roles.Analyst, Roles.ResultRecipient, Roles.Auditor];

    private static string PartyFor(string role) => "m-" + role.Replace("-", string.Empty, StringComparison.Ordinal);

    [Fact]
    public async Task Every_role_can_do_exactly_what_its_role_allows()
    {
        var keys = s_roles.ToDictionary(PartyFor, r => PartyKeys.Create(PartyFor(r)));
        try
        {
            await RunMatrixAsync(keys);
        }
        finally
        {
            foreach (var k in keys.Values)
            {
                k.Dispose();
            }
        }
    }

    private async Task RunMatrixAsync(Dictionary<string, PartyKeys> keys)
    {
        var id = "matrix-" + Guid.NewGuid().ToString("N")[..6];
        var contract = new ContractDocument
        {
            Id = id,
            Title = "role matrix",
            Parties = s_roles.Select(r => new ContractParty(PartyFor(r), [r], keys[PartyFor(r)].Identity.SigningKey, keys[PartyFor(r)].Identity.EncryptionKey)).ToList(),
            Datasets = [new DatasetDeclaration { Name = "purchases", Owner = PartyFor(Roles.DataProvider), Columns = [new("customer_id", "BIGINT"), new("category", "VARCHAR")], PrivacyUnit = "customer_id", JoinColumns = ["customer_id"] }],
            ValidFrom = DateTimeOffset.UtcNow.AddDays(-1),
            ValidUntil = DateTimeOffset.UtcNow.AddDays(1),
            AttestationPolicy = "simulated",
        };
        var contractJson = JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions);
        ApiClient Api(string role) => new(f.Server, keys[PartyFor(role)]);
        var results = new List<string>();

        async Task Cell(string action, string role, bool allowed, Func<ApiClient, Task> call, string? deniedCode = null)
        {
            using var api = Api(role);
            try
            {
                await call(api);
                results.Add(allowed ? string.Empty : $"{action} by {role}: allowed but should be refused");
            }
            catch (CliException ex)
            {
                if (allowed)
                {
                    results.Add($"{action} by {role}: refused ({ex.Code}) but should be allowed");
                }
                else if (deniedCode is not null && ex.Code != deniedCode)
                {
                    results.Add($"{action} by {role}: refused with {ex.Code}, expected {deniedCode}");
                }
            }
        }

        // Draft: only the contract manager.
        foreach (var role in s_roles.Where(r => r != Roles.ContractManager))
        {
            await Cell("draft", role, false, api => PartyOperations.DraftContractAsync(api, contractJson, default), "auth.role_required");
        }

        await Cell("draft", Roles.ContractManager, true, api => PartyOperations.DraftContractAsync(api, contractJson, default));

        // Sign: every party (and the contract becomes active only after all signed).
        foreach (var role in s_roles)
        {
            await Cell("sign", role, true, api => PartyOperations.SignContractAsync(api, id, default));
        }

        // Dataset key and publication: only the owning data provider.
        var data = Directory.CreateDirectory(Path.Combine(f.Root, id)).FullName;
        var csv = Path.Combine(data, "purchases.csv");
        await File.WriteAllLinesAsync(csv, ["customer_id,category", .. Enumerable.Range(1, 400).Select(i => $"{i},{(i % 2 == 0 ? "toys" : "books")}")]);
        foreach (var role in s_roles.Where(r => r != Roles.DataProvider))
        {
            await Cell("publish", role, false, api => PartyOperations.PublishDatasetAsync(api, id, "purchases", csv, data, null, default), "auth.role_required");
        }

        await Cell("publish", Roles.DataProvider, true, api => PartyOperations.PublishDatasetAsync(api, id, "purchases", csv, data, null, default));

        // Propose: only the analyst.
        ComputationDocument Computation(string proposer) => new()
        {
            Id = id + "-q",
            ContractId = id,
            ContractHash = contract.Hash(),
            Sql = "SELECT p.category, count(*) AS n FROM purchases AS p GROUP BY p.category",
            Privacy = new PrivacySpec("aggregate", 10),
            Recipients = [PartyFor(Roles.ResultRecipient)],
            ProposedBy = proposer,
        };
        foreach (var role in s_roles.Where(r => r != Roles.Analyst))
        {
            await Cell("propose", role, false, api => PartyOperations.ProposeAsync(api, Computation(PartyFor(role)), default), "auth.role_required");
        }

        await Cell("propose", Roles.Analyst, true, api => PartyOperations.ProposeAsync(api, Computation(PartyFor(Roles.Analyst)), default));

        // Run before approval: refused for everyone.
        await Cell("run (unapproved)", Roles.Analyst, false, api => PartyOperations.RunAsync(api, id + "-q", new Dictionary<string, string>(), default), "computation.not_approved");

        // Vote: only the required approvers (owner of the data read + contract manager).
        foreach (var role in new[] { Roles.Analyst, Roles.ResultRecipient, Roles.Auditor })
        {
            await Cell("vote", role, false, api => PartyOperations.VoteAsync(api, id + "-q", VoteStatement.Approve, default), "vote.not_an_approver");
        }

        await Cell("vote", Roles.DataProvider, true, api => PartyOperations.VoteAsync(api, id + "-q", VoteStatement.Approve, default));
        await Cell("vote", Roles.ContractManager, true, api => PartyOperations.VoteAsync(api, id + "-q", VoteStatement.Approve, default));

        // Run: only the analyst.
        foreach (var role in s_roles.Where(r => r != Roles.Analyst))
        {
            await Cell("run", role, false, api => PartyOperations.RunAsync(api, id + "-q", new Dictionary<string, string>(), default), "auth.role_required");
        }

        JobView? job = null;
        await Cell("run", Roles.Analyst, true, async api =>
        {
            job = await PartyOperations.RunAsync(api, id + "-q", new Dictionary<string, string>(), default);
            job = await PartyOperations.WaitAsync(api, job.Id, TimeSpan.FromMinutes(2), default);
        });
        Assert.Equal("finished", job?.State);

        // Result: only the named recipient.
        foreach (var role in s_roles.Where(r => r != Roles.ResultRecipient))
        {
            await Cell("fetch result", role, false, api => api.GetAsync<ResultBundle>($"api/jobs/{job!.Id}/result", default), "auth.not_recipient");
        }

        await Cell("fetch result", Roles.ResultRecipient, true, api => api.GetAsync<ResultBundle>($"api/jobs/{job!.Id}/result", default));

        // Reading the contract, the audit log and the privacy budget: every party of the contract (the auditor's job).
        foreach (var role in s_roles)
        {
            await Cell("read contract", role, true, api => api.GetAsync<ContractView>($"api/contracts/{id}", default));
            await Cell("export audit", role, true, api => api.GetAsync<AuditExport>($"api/contracts/{id}/audit", default));
            await Cell("read budget", role, true, api => PartyOperations.GetBudgetAsync(api, id, default));
        }

        // Terminate: only the contract manager; afterwards no computation, vote or run, by anyone.
        foreach (var role in s_roles.Where(r => r != Roles.ContractManager))
        {
            await Cell("terminate", role, false, api => PartyOperations.TerminateContractAsync(api, id, null, default), "auth.role_required");
        }

        await Cell("terminate", Roles.ContractManager, true, api => PartyOperations.TerminateContractAsync(api, id, "role matrix done", default));
        await Cell("terminate (again)", Roles.ContractManager, false, api => PartyOperations.TerminateContractAsync(api, id, null, default), "contract.not_active");
        await Cell("run (terminated)", Roles.Analyst, false, api => PartyOperations.RunAsync(api, id + "-q", new Dictionary<string, string>(), default), "contract.not_active");
        await Cell("vote (terminated)", Roles.DataProvider, false, api => PartyOperations.VoteAsync(api, id + "-q", VoteStatement.Approve, default), "contract.not_active");
        await Cell("propose (terminated)", Roles.Analyst, false, api => PartyOperations.ProposeAsync(api, Computation(PartyFor(Roles.Analyst)) with { Id = id + "-q2" }, default), "contract.not_active");
        using (var auditor = Api(Roles.Auditor))
        {
            Assert.Equal("terminated", (await auditor.GetAsync<ContractView>($"api/contracts/{id}", default)).State);
            var log = (await auditor.GetAsync<AuditExport>($"api/contracts/{id}/audit", default)).Entries;
            Assert.Contains(log, e => e.Action == "contract.terminated" && e.Target == "contract/" + id && e.Outcome == "ok" && e.Actor == PartyFor(Roles.ContractManager));
        }

        var failures = results.Where(r => r.Length > 0).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Enclave;
using CleanRoom.KeyRelease;

namespace CleanRoom.Benchmarks;

/// <summary>
/// Attest-and-release round trips on loopback against a real cleanroom-server child process in
/// simulated mode. One iteration = MAA SevSnpVm attest with a fresh nonce (the server verifies the
/// SNP report and chain, evaluates the policy, signs an RS256 token) + the enclave's own token check
/// + one Key Vault-format release of a dataset KEK (release policy evaluated, key_hsm envelope built)
/// + the enclave's verification of the release JWS and unwrapping of the KEK. Evidence creation is
/// not timed (on hardware it is the PSP's time, not ours). Measured twice: warm (the enclave's path, one report per boot)
/// and cold (a new report for every round trip).
/// </summary>
internal static class AttestReleaseBench
{
    public static async Task RunAsync(TextWriter output, int iterations)
    {
        await using var server = await LocalServer.StartAsync("cleanroom-bench-attest-");
        var key = await CreateDatasetKeyAsync(server.Url);
        await MeasureAsync(output, server.Url, server.SimAmd, key, iterations);
    }

    private static async Task MeasureAsync(TextWriter output, Uri url, string simAmd, DatasetKeyView key, int iterations)
    {
        using var client = new EnclaveServerClient(new HttpClient { BaseAddress = url });
        using var brokerKey = RSA.Create();
        brokerKey.ImportFromPem(await client.BrokerSigningKeyPemAsync(default));

        // Warm: the enclave's own AttestAsync, which reuses this boot's report (fetched once, so not timed) and the
        // authority's cached /certs. Cold: a fresh report every time (created outside the timing), so the authority
        // verifies its ECDSA signature every time, and the enclave checks the token against /certs fetched each time.
        foreach (var fresh in new[] { true, false }) // cold first: it also warms both processes up for the warm run
        {
            using var keys = new EnclaveKeys();
            using var evidence = new SimulatedEvidenceSource(SimulatedAmdPlatform.Load(simAmd));
            var attestation = new EnclaveAttestation(evidence, client, SimulatedAmdPlatform.SimulatedIssuer, TimeProvider.System);
            var warmup = Math.Min(100, iterations); // enough for the tiered JIT to settle in both processes
            var attest = new double[iterations];
            var release = new double[iterations];
            var total = new double[iterations];
            for (var i = -warmup; i < iterations; i++)
            {
                var material = fresh ? await evidence.GetEvidenceAsync(keys.ReportData(), default) : null;
                var nonce = Hashing.B64Url(RandomNumberGenerator.GetBytes(16));
                var start = Stopwatch.GetTimestamp();
                string token;
                if (material is null)
                {
                    token = await attestation.AttestAsync(keys, nonce, default);
                }
                else
                {
                    token = await ((IEnclaveAttestationClient)client).AttestAsync(material, keys.RuntimeData, nonce, default);
                    var check = attestation.Check(token, await ((IEnclaveAttestationClient)client).GetJwksAsync(default), nonce);
                    if (!check.IsValid)
                    {
                        throw new InvalidOperationException("token refused: " + check);
                    }
                }

                client.Token = token;
                var attested = Stopwatch.GetTimestamp();
                var releaseNonce = Hashing.B64Url(RandomNumberGenerator.GetBytes(16));
                var jws = await client.ReleaseKeyAsync(key.KeyName, key.KeyVersion, releaseNonce, default);
                var verified = KeyReleaseResponse.Verify(jws, brokerKey, releaseNonce);
                if (!verified.IsSuccess)
                {
                    throw new InvalidOperationException("release response refused: " + verified.Reason);
                }

                using (var unwrapped = KeyHsmEnvelope.TryOpen(verified.Value!.KeyHsm, keys.EncryptionKey))
                {
                    if (!unwrapped.IsSuccess)
                    {
                        throw new InvalidOperationException("released key does not unwrap: " + unwrapped.Reason);
                    }
                }

                var end = Stopwatch.GetTimestamp();
                if (i >= 0)
                {
                    attest[i] = Stopwatch.GetElapsedTime(start, attested).TotalMilliseconds;
                    release[i] = Stopwatch.GetElapsedTime(attested, end).TotalMilliseconds;
                    total[i] = Stopwatch.GetElapsedTime(start, end).TotalMilliseconds;
                }
            }

            var label = fresh ? "cold: fresh report each time" : "warm: the boot's report reused, as the enclave does";
            output.WriteLine(
                $"attest+release ({label}; loopback, simulated SEV-SNP, {iterations} iterations after {warmup} warm-up): " +
                $"p50 {LocalServer.Percentile(total, 0.5):N2} ms, p99 {LocalServer.Percentile(total, 0.99):N2} ms " +
                $"(attest p50 {LocalServer.Percentile(attest, 0.5):N2} / p99 {LocalServer.Percentile(attest, 0.99):N2} ms; " +
                $"release p50 {LocalServer.Percentile(release, 0.5):N2} / p99 {LocalServer.Percentile(release, 0.99):N2} ms; evidence creation excluded)");
        }
    }

    /// <summary>Three parties sign a contract; the data provider asks the broker for a dataset KEK under the contract's release policy.</summary>
    private static async Task<DatasetKeyView> CreateDatasetKeyAsync(Uri url)
    {
        var parties = new[] { "retailer", "advertiser", "manager" }.ToDictionary(n => n, PartyKeys.Create);
        try
        {
            ContractParty Party(string name, params string[] roles) => new(name, roles, parties[name].Identity.SigningKey, parties[name].Identity.EncryptionKey);
            var contract = new ContractDocument
            {
                Id = "bench-attest",
                Title = "attest-and-release benchmark",
                Parties =
                [
                    Party("retailer", Roles.DataProvider),
                    Party("advertiser", Roles.DataProvider, Roles.Analyst, Roles.ResultRecipient),
                    Party("manager", Roles.ContractManager, Roles.Auditor),
                ],
                Datasets =
                [
                    new DatasetDeclaration { Name = "purchases", Owner = "retailer", Columns = [new("customer_id", "BIGINT"), new("amount", "DECIMAL(18,2)")], PrivacyUnit = "customer_id", JoinColumns = ["customer_id"] },
                ],
                ValidFrom = DateTimeOffset.UtcNow.AddDays(-1),
                ValidUntil = DateTimeOffset.UtcNow.AddDays(1),
                AttestationPolicy = "simulated",
            };
            using (var manager = new ApiClient(url, parties["manager"]))
            {
                await PartyOperations.DraftContractAsync(manager, JsonSerializer.SerializeToUtf8Bytes(contract, CanonicalJson.SerializerOptions), default);
            }

            foreach (var party in parties.Values)
            {
                using var api = new ApiClient(url, party);
                await PartyOperations.SignContractAsync(api, contract.Id, default);
            }

            using var retailer = new ApiClient(url, parties["retailer"]);
            return await retailer.PostAsync<DatasetKeyView>($"api/contracts/{contract.Id}/datasets/purchases/key", null, default);
        }
        finally
        {
            foreach (var party in parties.Values)
            {
                party.Dispose();
            }
        }
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Enclave;
using CleanRoom.KeyRelease;
using CleanRoom.Server;

namespace CleanRoom.Benchmarks;

/// <summary>
/// Attest-and-release round trips on loopback against a real cleanroom-server child process in
/// simulated mode. One iteration = MAA SevSnpVm attest with a fresh nonce (the server verifies the
/// SNP report and chain, evaluates the policy, signs an RS256 token) + the enclave's own token check
/// + one Key Vault-format release of a dataset KEK (release policy evaluated, key_hsm envelope built)
/// + the enclave's verification of the release JWS and unwrapping of the KEK. Evidence creation is
/// not timed (on hardware it is the PSP's time, not ours). Measured twice: warm (the enclave's path, one report per boot)
/// and cold (a new report for every round trip). A third line times the same round trip's cryptography alone, in
/// process, as a floor for this machine.
/// </summary>
internal static class AttestReleaseBench
{
    public static async Task RunAsync(TextWriter output, int iterations)
    {
        await using var server = await LocalServer.StartAsync("cleanroom-bench-attest-");
        var key = await CreateDatasetKeyAsync(server.Url);
        await MeasureAsync(output, server.Url, server.SimAmd, key, iterations);
        var crypto = MeasureCryptographyFloor(output, iterations);
        var roundTrip = await MeasureLoopbackRoundTripAsync(server.Url, iterations);
        output.WriteLine(
            $"attest+release floor on this machine: cryptography {crypto:N2} ms + two loopback HTTP round trips (GET /certs, a cached " +
            $"document: p50 {roundTrip:N2} ms each) = {crypto + (2 * roundTrip):N2} ms, before any parsing, policy, token check or audit write");
    }

    /// <summary>The p50 of one loopback HTTP round trip that does no work on the server (the cached JWKS): the transport's share.</summary>
    private static async Task<double> MeasureLoopbackRoundTripAsync(Uri url, int iterations)
    {
        using var http = new HttpClient { BaseAddress = url };
        var times = new double[iterations];
        for (var i = -Math.Min(100, iterations); i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await http.GetStringAsync("certs");
            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        return LocalServer.Percentile(times, 0.5);
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

    /// <summary>
    /// The cryptography a warm round trip must do one step after another, timed alone in this process on the same
    /// keys' sizes: the authority's RS256 token signature, the broker's key_hsm wrap (RSA-OAEP to the enclave's key,
    /// then RFC 5649 over the RSA-3072 target key) and RS256 release signature, and the enclave's unwrap (RSA-3072 OAEP
    /// decryption, then RFC 5649). No transport, JSON, policy or database time: a floor for the round trip on this machine.
    /// </summary>
    private static double MeasureCryptographyFloor(TextWriter output, int iterations)
    {
        using var authorityKey = RSA.Create(AttestationAuthority.SigningKeySizeBits);
        using var brokerKey = RSA.Create(KeyBroker.SigningKeySizeBits);
        using var keys = new EnclaveKeys();
        using var target = RSA.Create(3072);
        var targetPkcs8 = RsaTargetKey.Export(target);
        var payload = RandomNumberGenerator.GetBytes(1024);
        var sign = new double[iterations];
        var wrap = new double[iterations];
        var unwrap = new double[iterations];
        var total = new double[iterations];
        for (var i = -Math.Min(100, iterations); i < iterations; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            authorityKey.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var t1 = Stopwatch.GetTimestamp();
            var keyHsm = KeyHsmEnvelope.Create(targetPkcs8, keys.EncryptionKey, "enclave-encryption", KeyWrapAlgorithm.RsaAesKeyWrap256);
            var t2 = Stopwatch.GetTimestamp();
            brokerKey.SignData(payload, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var t3 = Stopwatch.GetTimestamp();
            using (var opened = KeyHsmEnvelope.TryOpen(keyHsm, keys.EncryptionKey))
            {
                if (!opened.IsSuccess)
                {
                    throw new InvalidOperationException("key_hsm envelope does not open: " + opened.Reason);
                }
            }

            var t4 = Stopwatch.GetTimestamp();
            if (i >= 0)
            {
                sign[i] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds + Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
                wrap[i] = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
                unwrap[i] = Stopwatch.GetElapsedTime(t3, t4).TotalMilliseconds;
                total[i] = Stopwatch.GetElapsedTime(t0, t4).TotalMilliseconds;
            }
        }

        output.WriteLine(
            $"attest+release cryptography alone (in process, no transport, JSON, policy or database; {iterations} iterations): " +
            $"p50 {LocalServer.Percentile(total, 0.5):N2} ms (two RS256 signatures {LocalServer.Percentile(sign, 0.5):N2} ms; " +
            $"key_hsm wrap {LocalServer.Percentile(wrap, 0.5):N2} ms; enclave RSA-3072 unwrap {LocalServer.Percentile(unwrap, 0.5):N2} ms)");
        return LocalServer.Percentile(total, 0.5);
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

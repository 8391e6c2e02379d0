using CleanRoom.Attestation;

namespace CleanRoom.Enclave.Tests;

/// <summary>Configuration-only selection of evidence, authority and key release; the configfs-tsm reader; the enclave's token check.</summary>
public sealed class AttestationServicesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cleanroom-enclave-attest-").FullName;
    private readonly EnclaveServerClient _server = new(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9/") });

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string SimAmd()
    {
        var dir = Path.Combine(_dir, "sim-amd");
        if (!Directory.Exists(dir))
        {
            using var platform = SimulatedAmdPlatform.Create();
            platform.Save(dir);
        }

        return dir;
    }

    private EnclaveServices? Create(EnclaveOptions options, out string? error) => EnclaveServices.Create(options, _server, TimeProvider.System, out error);

    [Fact]
    public void Defaults_select_simulated_evidence_with_the_local_authority_and_broker()
    {
        using var services = Create(new EnclaveOptions { Server = new Uri("http://127.0.0.1:9/"), Simulated = true, SimulatedAmdDirectory = SimAmd() }, out var error);

        Assert.NotNull(services);
        Assert.Null(error);
        Assert.True(services.Attestation.Evidence.IsSimulated);
        Assert.True(services.Attestation.Authority.IsLocal);
        Assert.True(services.KeyRelease.IsLocal);
        Assert.Equal(SimulatedAmdPlatform.SimulatedIssuer, services.Attestation.ExpectedIssuer);
    }

    [Fact]
    public void Without_simulated_flag_nothing_starts()
    {
        Assert.Null(Create(new EnclaveOptions { Server = new Uri("http://127.0.0.1:9/"), SimulatedAmdDirectory = SimAmd() }, out var error));
        Assert.Contains("no hardware evidence source", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://example.attest.azure.net", null)]
    [InlineData(null, "https://example.vault.azure.net")]
    public void Azure_services_with_simulated_evidence_are_refused(string? maa, string? vault)
    {
        var options = new EnclaveOptions
        {
            Server = new Uri("http://127.0.0.1:9/"),
            Simulated = true,
            SimulatedAmdDirectory = SimAmd(),
            AttestationEndpoint = maa is null ? null : new Uri(maa),
            KeyVault = vault is null ? null : new Uri(vault),
        };

        Assert.Null(Create(options, out var error));
        Assert.Contains("need real evidence", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tsm_evidence_needs_a_pinned_policy()
    {
        Assert.Null(Create(new EnclaveOptions { Server = new Uri("http://127.0.0.1:9/"), Evidence = "tsm", TsmRoot = _dir }, out var error));
        Assert.Contains("--attestation-policy", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tsm_evidence_with_simulated_flag_is_refused()
    {
        Assert.Null(Create(new EnclaveOptions { Server = new Uri("http://127.0.0.1:9/"), Evidence = "tsm", Simulated = true, SimulatedAmdDirectory = SimAmd() }, out var error));
        Assert.Contains("contradicts", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Tsm_evidence_with_maa_and_key_vault_selects_the_azure_clients()
    {
        var policy = Path.Combine(FindRepo(), "attestation-policies", "production-sevsnp.json");
        using var services = Create(new EnclaveOptions
        {
            Server = new Uri("http://127.0.0.1:9/"),
            Evidence = "tsm",
            TsmRoot = _dir,
            AttestationPolicyFile = policy,
            AttestationEndpoint = new Uri("https://example.attest.azure.net"),
            KeyVault = new Uri("https://example.vault.azure.net"),
        }, out var error);

        Assert.True(services is not null, error);
        Assert.False(services.Attestation.Evidence.IsSimulated);
        Assert.IsType<ConfigFsTsmEvidenceSource>(services.Attestation.Evidence);
        Assert.IsType<AzureEnclaveAttestationClient>(services.Attestation.Authority);
        Assert.IsType<AzureEnclaveKeyReleaseClient>(services.KeyRelease);
        Assert.Equal("https://attestation.cleanroom.example", services.Attestation.ExpectedIssuer);
    }

    [Fact]
    public void Key_vault_signer_files_are_read_and_checked_at_startup()
    {
        using var pki = CleanRoom.KeyRelease.Tests.TestPki.Create();
        var roots = Path.Combine(_dir, "key-vault-roots.pem");
        File.WriteAllText(roots, pki.RootPem);
        var garbage = Path.Combine(_dir, "not-pem.pem");
        File.WriteAllText(garbage, "not a certificate");
        EnclaveOptions Options(string? rootsFile, string? signerFile = null, string? vault = "https://example.vault.azure.net") => new()
        {
            Server = new Uri("http://127.0.0.1:9/"),
            Evidence = "tsm",
            TsmRoot = _dir,
            AttestationPolicyFile = Path.Combine(FindRepo(), "attestation-policies", "production-sevsnp.json"),
            KeyVault = vault is null ? null : new Uri(vault),
            KeyVaultRootsFile = rootsFile,
            KeyVaultSignerFile = signerFile,
        };

        using (var services = Create(Options(roots), out var error))
        {
            Assert.True(services is not null, error);
            Assert.IsType<AzureEnclaveKeyReleaseClient>(services.KeyRelease);
        }

        Assert.Null(Create(Options(garbage), out var garbageError));
        Assert.Contains("Key Vault signer configuration cannot be used", garbageError, StringComparison.Ordinal);
        Assert.Null(Create(Options(null, signerFile: garbage), out var signerError));
        Assert.Contains("pinned signer", signerError, StringComparison.Ordinal);
        Assert.Null(Create(Options(Path.Combine(_dir, "missing.pem")), out var missingError));
        Assert.Contains("cannot read", missingError, StringComparison.Ordinal);
        Assert.Null(Create(Options(roots, vault: null), out var noVaultError));
        Assert.Contains("only apply with --key-vault", noVaultError, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_http_azure_endpoint_is_refused()
    {
        var policy = Path.Combine(FindRepo(), "attestation-policies", "production-sevsnp.json");
        Assert.Null(Create(new EnclaveOptions { Server = new Uri("http://127.0.0.1:9/"), Evidence = "tsm", TsmRoot = _dir, AttestationPolicyFile = policy, KeyVault = new Uri("http://example.vault.azure.net") }, out var error));
        Assert.Contains("Azure endpoint refused", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configfs_tsm_reader_writes_report_data_and_reads_the_report_and_certificate_table()
    {
        // A fake configfs: a watcher plays the kernel, answering inblob with outblob/auxblob.
        using var platform = SimulatedAmdPlatform.Create();
        var reportData = new byte[64];
        reportData[0] = 0xAB;
        var report = platform.CreateReport(new SimulatedReportRequest { ReportData = reportData, Measurement = SimulatedAmdPlatform.SimulatedLaunchMeasurement });
        var aux = CertificateTable(platform);
        using var kernel = new FakeTsm(_dir, report, aux);

        var source = new ConfigFsTsmEvidenceSource(_dir, vcekChainFile: null);
        var evidence = await source.GetEvidenceAsync(reportData, default);

        Assert.Equal(report, evidence.Report);
        Assert.Equal(reportData, kernel.LastInblob);
        Assert.True(new SnpVerifier(platform.TrustedRoots).Verify(evidence.Report, evidence.VcekCertChainPem).IsValid);
        Assert.Empty(Directory.GetDirectories(_dir));
    }

    [Fact]
    public async Task Configfs_tsm_reader_without_certificate_table_uses_the_vcek_chain_file()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var report = platform.CreateReport(new SimulatedReportRequest { ReportData = new byte[64], Measurement = SimulatedAmdPlatform.SimulatedLaunchMeasurement });
        using var kernel = new FakeTsm(_dir, report, aux: null);
        var chainFile = Path.Combine(_dir, "..", Path.GetFileName(_dir) + "-chain.pem");
        await File.WriteAllTextAsync(chainFile, platform.CertChainPem);
        try
        {
            var evidence = await new ConfigFsTsmEvidenceSource(_dir, chainFile).GetEvidenceAsync(new byte[64], default);
            Assert.Equal(platform.CertChainPem, evidence.VcekCertChainPem);
        }
        finally
        {
            File.Delete(chainFile);
        }
    }

    [Fact]
    public async Task Configfs_tsm_reader_refuses_a_short_report_and_a_missing_interface()
    {
        using (new FakeTsm(_dir, new byte[1000], aux: null))
        {
            var ex = await Assert.ThrowsAsync<JobRefusalException>(() => new ConfigFsTsmEvidenceSource(_dir, null).GetEvidenceAsync(new byte[64], default));
            Assert.Equal("evidence.tsm_report_length", ex.Code);
        }

        var missing = await Assert.ThrowsAsync<JobRefusalException>(() => new ConfigFsTsmEvidenceSource(Path.Combine(_dir, "absent"), null).GetEvidenceAsync(new byte[64], default));
        Assert.Equal("evidence.tsm_unavailable", missing.Code);
    }

    [Fact]
    public async Task Token_carrying_another_nonce_is_refused_by_the_enclave()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var policy = SimulatedPolicy();
        using var authority = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer);
        using var keys = new EnclaveKeys();
        var fake = new ReplayingAuthority(authority, replacementNonce: "someone-elses-nonce");
        var attestation = new EnclaveAttestation(Evidence(platform), fake, policy.Issuer, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => attestation.AttestAsync(keys, "my-nonce", default));

        Assert.Equal(TokenErrorCodes.NonceMismatch, ex.Code);
        fake.ReplacementNonce = null;
        Assert.False(string.IsNullOrEmpty(await attestation.AttestAsync(keys, "my-nonce-2", default)));
    }

    [Fact]
    public async Task Token_from_an_issuer_other_than_the_pinned_one_is_refused_by_the_enclave()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var policy = SimulatedPolicy();
        using var authority = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer);
        using var keys = new EnclaveKeys();
        var attestation = new EnclaveAttestation(Evidence(platform), new ReplayingAuthority(authority, null), "https://attestation.cleanroom.example", TimeProvider.System);

        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => attestation.AttestAsync(keys, null, default));

        Assert.Equal(TokenErrorCodes.IssuerMismatch, ex.Code);
    }

    [Fact]
    public async Task One_report_serves_every_attestation_of_a_boot_and_is_fetched_again_after_a_refusal()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var policy = SimulatedPolicy();
        using var authority = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer);
        using var keys = new EnclaveKeys();
        using var source = new CountingEvidenceSource(Evidence(platform));
        var fake = new ReplayingAuthority(authority, null);
        var attestation = new EnclaveAttestation(source, fake, policy.Issuer, TimeProvider.System);

        var first = await attestation.AttestAsync(keys, "nonce-1", default);
        var second = await attestation.AttestAsync(keys, "nonce-2", default);

        Assert.Equal(1, source.Fetches);
        Assert.Equal(1, fake.JwksFetches);
        Assert.NotEqual(first, second); // a fresh token for each nonce, from the same report
        fake.ReplacementNonce = "someone-elses-nonce";
        await Assert.ThrowsAsync<JobRefusalException>(() => attestation.AttestAsync(keys, "nonce-3", default));
        fake.ReplacementNonce = null;
        Assert.False(string.IsNullOrEmpty(await attestation.AttestAsync(keys, "nonce-4", default)));
        Assert.Equal(2, source.Fetches);

        using var otherKeys = new EnclaveKeys(); // other REPORT_DATA: the old report cannot serve it
        Assert.False(string.IsNullOrEmpty(await attestation.AttestAsync(otherKeys, "nonce-5", default)));
        Assert.Equal(3, source.Fetches);
    }

    [Fact]
    public async Task The_enclave_fetches_the_authority_keys_again_when_they_rotate_and_still_refuses_a_bad_token()
    {
        using var platform = SimulatedAmdPlatform.Create();
        var policy = SimulatedPolicy();
        using var before = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer);
        using var after = new AttestationAuthority(policy, platform.TrustedRoots, policy.Issuer); // same issuer, new signing key
        using var keys = new EnclaveKeys();
        var fake = new ReplayingAuthority(before, null);
        var attestation = new EnclaveAttestation(Evidence(platform), fake, policy.Issuer, TimeProvider.System);
        await attestation.AttestAsync(keys, "n-1", default);

        fake.Authority = after;
        Assert.False(string.IsNullOrEmpty(await attestation.AttestAsync(keys, "n-2", default)));
        Assert.Equal(2, fake.JwksFetches);

        fake.ReplacementNonce = "replayed"; // refused even after a fresh fetch of the keys
        var ex = await Assert.ThrowsAsync<JobRefusalException>(() => attestation.AttestAsync(keys, "n-3", default));
        Assert.Equal(TokenErrorCodes.NonceMismatch, ex.Code);
    }

    private static AttestationPolicy SimulatedPolicy() =>
        AttestationPolicy.Load(Path.Combine(FindRepo(), "attestation-policies", "simulated.json")).Policy!;

    /// <summary>The simulated evidence source of <paramref name="platform"/>, as the enclave loads it from disk.</summary>
    private SimulatedEvidenceSource Evidence(SimulatedAmdPlatform platform) => new SimulatedEvidenceSource(SimulatedAmdPlatform.Load(Save(platform)));

    private string Save(SimulatedAmdPlatform platform)
    {
        var dir = Path.Combine(_dir, "platform-" + Guid.NewGuid().ToString("N")[..6]);
        platform.Save(dir);
        return dir;
    }

    private static byte[] CertificateTable(SimulatedAmdPlatform platform)
    {
        var certs = new (Guid Guid, byte[] Der)[]
        {
            (new Guid("63da758d-e664-4564-adc5-f4b93be8accd"), Der(platform.VcekPem)),
            (new Guid("4ab7b379-bbac-4fe4-a02f-05aef327c782"), Der(platform.ChainPem.Split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----")),
            (new Guid("c0b406a4-a803-4952-9743-3fb6014cd0ae"), Der(platform.ArkPem)),
        };
        var header = 24 * (certs.Length + 1);
        var table = new List<byte>();
        var offset = header;
        foreach (var (guid, der) in certs)
        {
            table.AddRange(guid.ToByteArray());
            table.AddRange(BitConverter.GetBytes((uint)offset));
            table.AddRange(BitConverter.GetBytes((uint)der.Length));
            offset += der.Length;
        }

        table.AddRange(new byte[24]);
        foreach (var (_, der) in certs)
        {
            table.AddRange(der);
        }

        return [.. table];
    }

    private static byte[] Der(string pem)
    {
        using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
        return cert.RawData;
    }

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CleanRoom.sln")))
        {
            dir = dir.Parent;
        }

        return dir!.FullName;
    }

    /// <summary>Answers through a real authority, optionally swapping in another nonce (a stale or substituted token).</summary>
    private sealed class CountingEvidenceSource(IEvidenceSource inner) : IEvidenceSource
    {
        public int Fetches { get; private set; }

        public bool IsSimulated => inner.IsSimulated;

        public string Description => inner.Description;

        public Task<AttestationEvidence> GetEvidenceAsync(byte[] reportData, CancellationToken cancellationToken)
        {
            Fetches++;
            return inner.GetEvidenceAsync(reportData, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class ReplayingAuthority(AttestationAuthority authority, string? replacementNonce) : IEnclaveAttestationClient
    {
        public string? ReplacementNonce { get; set; } = replacementNonce;

        public AttestationAuthority Authority { get; set; } = authority;

        public int JwksFetches { get; private set; }

        public bool IsLocal => true;

        public Task<string> AttestAsync(AttestationEvidence evidence, byte[] runtimeData, string nonce, CancellationToken cancellationToken)
        {
            var result = Authority.Attest(new SnpAttestRequest { Report = evidence.Report, VcekCertChainPem = evidence.VcekCertChainPem, RuntimeData = runtimeData, Nonce = ReplacementNonce ?? nonce });
            return Task.FromResult(result.Token ?? throw new InvalidOperationException(result.ToString()));
        }

        public Task<string> GetJwksAsync(CancellationToken cancellationToken)
        {
            JwksFetches++;
            return Task.FromResult(Authority.JwksJson);
        }
    }

    /// <summary>Plays the kernel's part of configfs-tsm on a plain directory: mkdir gets an answer once inblob is written.</summary>
    private sealed class FakeTsm : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly HashSet<string> _seen = [];
        private readonly HashSet<string> _answered = [];
        private readonly Task _loop;

        public FakeTsm(string root, byte[] report, byte[]? aux)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        Answer(root, report, aux);
                    }
                    catch (IOException)
                    {
                        // The reader removed the entry while we looked at it.
                    }

                    await Task.Delay(5);
                }
            });
        }

        private void Answer(string root, byte[] report, byte[]? aux)
        {
            foreach (var entry in Directory.GetDirectories(root))
            {
                // Touch each entry once: the reader deletes it as soon as it has the answer.
                if (_answered.Contains(entry))
                {
                    continue;
                }

                var provider = Path.Combine(entry, "provider");
                if (_seen.Add(entry))
                {
                    File.WriteAllText(provider, "sev_guest\n");
                }

                var inblob = Path.Combine(entry, "inblob");
                var outblob = Path.Combine(entry, "outblob");
                if (File.Exists(inblob) && new FileInfo(inblob).Length == 64 && !File.Exists(outblob))
                {
                    LastInblob = File.ReadAllBytes(inblob);
                    if (aux is not null)
                    {
                        File.WriteAllBytes(Path.Combine(entry, "auxblob"), aux);
                    }

                    File.WriteAllBytes(outblob + ".tmp", report);
                    _answered.Add(entry);
                    File.Move(outblob + ".tmp", outblob);
                }
            }
        }

        public byte[]? LastInblob { get; private set; }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
            _stop.Dispose();
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CleanRoom.Attestation;
using CleanRoom.Cli;
using CleanRoom.Core;
using CleanRoom.Core.Api;
using CleanRoom.Transparency;
using NSec.Cryptography;

namespace CleanRoom.EndToEnd.Tests;

/// <summary>
/// `result verify` on bundles built in-process, no server: an attestation authority whose keys the verifier pins, an
/// attested enclave key that signs whatever job it is given, and an operator who writes the rest of the bundle.
/// </summary>
public sealed class ResultVerifierTests : IDisposable
{
    private static readonly string Measurement = new('a', 96);
    private readonly RSA _authority = RSA.Create(2048);
    private readonly Key _enclave = Key.Create(SignatureAlgorithm.Ed25519);
    private readonly Key _server = Key.Create(SignatureAlgorithm.Ed25519);
    private readonly PartyKeys _retailer = PartyKeys.Create("retailer");
    private readonly PartyKeys _advertiser = PartyKeys.Create("advertiser");
    private readonly PartyKeys _manager = PartyKeys.Create("manager");

    private static AttestationPolicy Policy()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Processes.Policies, "production-sevsnp.json")))!;
        json["allowedMeasurements"] = new JsonArray(Measurement);
        return AttestationPolicy.Parse(json.ToJsonString()).Policy!;
    }

    private string AuthorityJwks()
    {
        var rsa = _authority.ExportParameters(false);
        return new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = "authority", ["n"] = Hashing.B64Url(rsa.Modulus!), ["e"] = Hashing.B64Url(rsa.Exponent!) }) }.ToJsonString();
    }

    /// <summary>A token of the pinned authority binding the enclave's Ed25519 key: what a genuine enclave gets.</summary>
    private string Token(DateTimeOffset now)
    {
        var iat = now.ToUnixTimeSeconds() - 60;
        var payload = new JsonObject
        {
            ["iss"] = Policy().Issuer,
            ["iat"] = iat,
            ["nbf"] = iat,
            ["exp"] = iat + 3600,
            ["x-ms-attestation-type"] = "sevsnpvm",
            ["x-ms-sevsnpvm-is-debuggable"] = false,
            ["x-ms-sevsnpvm-launchmeasurement"] = Measurement,
            ["x-ms-runtime"] = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = Hashing.B64Url(_enclave.PublicKey.Export(KeyBlobFormat.RawPublicKey)) }) },
        };
        var input = Hashing.B64Url("""{"alg":"RS256","kid":"authority","typ":"JWT"}"""u8) + "." + Hashing.B64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return input + "." + Hashing.B64Url(_authority.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    /// <summary>
    /// A complete bundle for a contract whose parties sign with <paramref name="signers"/> (by name), the recipient
    /// 'advertiser' receiving at <paramref name="advertiserEncryptionKey"/>; the result is signed by the attested enclave.
    /// </summary>
    private ResultBundle Bundle(IReadOnlyList<PartyKeys> signers, string advertiserEncryptionKey, Func<ResultRecord, ResultRecord>? edit = null)
    {
        var now = DateTimeOffset.UtcNow;
        var byName = signers.ToDictionary(k => k.Name);
        ContractParty Party(string name, params string[] roles) =>
            new(name, roles, byName[name].Identity.SigningKey, name == "advertiser" ? advertiserEncryptionKey : byName[name].Identity.EncryptionKey);
        var contract = new ContractDocument
        {
            Id = "c1",
            Title = "test",
            Parties = [Party("retailer", Roles.DataProvider), Party("advertiser", Roles.Analyst, Roles.ResultRecipient), Party("manager", Roles.ContractManager)],
            Datasets = [new DatasetDeclaration { Name = "purchases", Owner = "retailer", Columns = [new("customer_id", "BIGINT")], PrivacyUnit = "customer_id" }],
            ValidFrom = now.AddDays(-1),
            ValidUntil = now.AddDays(30),
            AttestationPolicy = "production-sevsnp",
        };
        var hash = contract.Hash();
        var signatures = signers.Select(k => new SignedStatement(k.Name, Jws.Sign(new ContractSignatureStatement("c1", 1, hash, k.Name, now), k.SigningKey, StatementTypes.ContractSignature))).ToList();
        var computation = new ComputationDocument
        {
            Id = "q1",
            ContractId = "c1",
            ContractHash = hash,
            Sql = "SELECT count(*) AS n FROM purchases",
            Privacy = new PrivacySpec(PrivacySpec.AggregateMode, 10),
            Recipients = ["advertiser"],
            ProposedBy = "advertiser",
        };
        var approvers = ApprovalVerifier.RequiredApprovers(contract, ["purchases"]);
        var votes = approvers.Select(n => new SignedStatement(n, Jws.Sign(new VoteStatement("c1", "q1", computation.Hash(), n, VoteStatement.Approve, now), byName[n].SigningKey, StatementTypes.Vote))).ToList();

        using var cell = JsonDocument.Parse("42");
        IReadOnlyList<IReadOnlyList<JsonElement>> rows = [[cell.RootElement.Clone()]];
        var output = ResultRecord.SerializeOutput(["n"], rows);
        var digest = Hashing.Sha256Hex(output);
        Assert.True(PartyKeys.TryImportEncryptionPublicKey(advertiserEncryptionKey, out var recipientKey));
        var ciphertextSha256 = new string('b', 64);
        var record = new ResultRecord
        {
            JobId = "job-1",
            ContractId = "c1",
            ContractHash = hash,
            ComputationId = "q1",
            ComputationHash = computation.Hash(),
            SqlSha256 = computation.SqlSha256(),
            Parameters = new Dictionary<string, string>(),
            Datasets = [new DatasetDigest("purchases", ciphertextSha256)],
            AttestationToken = Token(now),
            Privacy = new PrivacyOutcome(PrivacySpec.AggregateMode, 10, 0),
            JobAuditIndex = 0,
            Columns = ["n"],
            RowCount = 1,
            Outputs = [ResultRecord.SealOutput("advertiser", recipientKey!, "job-1", digest, output)],
            OutputSha256 = digest,
            IssuedAt = now,
        };
        record = edit?.Invoke(record) ?? record;

        var started = new AuditEntry { Seq = 0, Time = now, Actor = "enclave", Action = "job.started", Target = "job/job-1", Outcome = "ok", Prev = AuditEntry.GenesisPrev };
        var finished = new AuditEntry { Seq = 1, Time = now, Actor = "enclave", Action = "job.finished", Target = "job/job-1", Outcome = "ok", Prev = started.Hash() };
        var tree = new MerkleTree();
        tree.Append(started.CanonicalBytes());
        tree.Append(finished.CanonicalBytes());
        var checkpoint = new AuditCheckpoint(AuditCheckpoint.LogName, 2, finished.Hash(), Convert.ToHexStringLower(tree.Root()), now);
        var receipt = new AuditReceipt(
            Hashing.B64Url(_server.PublicKey.Export(KeyBlobFormat.RawPublicKey)),
            Jws.Sign(checkpoint, _server, StatementTypes.AuditCheckpoint),
            finished,
            new AuditInclusionProof(1, 2, tree.InclusionProof(1, 2).Select(Convert.ToHexStringLower).ToList()));

        return new ResultBundle(
            "cleanroom.result-bundle.v1",
            Jws.Sign(record, _enclave, StatementTypes.Result),
            contract,
            signatures,
            computation,
            approvers,
            votes,
            [new DatasetView("purchases", "retailer", "published", null, null, ciphertextSha256, null, null)],
            Policy().Issuer,
            default,
            1,
            receipt);
    }

    private ResultVerification Verify(ResultBundle bundle) =>
        ResultVerifier.Verify(bundle, Policy(), DateTimeOffset.UtcNow, null, _advertiser, AuthorityJwks());

    [Fact]
    public void A_genuine_bundle_verifies_for_its_recipient()
    {
        var verification = Verify(Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey));
        Assert.True(verification.IsValid, string.Join("; ", verification.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
    }

    [Fact]
    public void A_contract_the_verifier_never_signed_fails_even_when_every_party_named_in_it_signed()
    {
        // Found in review: the operator writes a contract of the same id listing every party under a signing key of its
        // own (the recipient's public encryption key kept, so the output opens), signs it and the votes itself, and has a
        // genuine attested enclave run it on data of its choosing. "contract" reported "signed by all 3 parties" and the
        // whole result verified, though the verifying party never signed that contract.
        using var fakeRetailer = PartyKeys.Create("retailer");
        using var fakeAdvertiser = PartyKeys.Create("advertiser");
        using var fakeManager = PartyKeys.Create("manager");
        var forged = Bundle([fakeRetailer, fakeAdvertiser, fakeManager], _advertiser.Identity.EncryptionKey);

        var verification = Verify(forged);

        Assert.False(verification.IsValid);
        var contract = Assert.Single(verification.Checks, c => c.Name == "contract");
        Assert.False(contract.Passed);
        Assert.Contains("advertiser", contract.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_result_that_reads_a_table_the_contract_does_not_declare_fails_the_approval_check_without_throwing()
    {
        // Found in review: ApprovalVerifier.RequiredApprovers threw ArgumentException out of `result verify`.
        var bundle = Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey, r => r with { Datasets = [new DatasetDigest("elsewhere", new string('b', 64))] });

        var verification = Verify(bundle);

        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "computation approved" && !c.Passed && c.Detail.Contains("elsewhere", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dataset_digest_that_is_not_a_sha256_fails_without_throwing()
    {
        // Found in review: the digest the bundle and the record share was cut to 12 characters for display.
        var genuine = Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey, r => r with { Datasets = [new DatasetDigest("purchases", "ab")] });
        var bundle = genuine with { Datasets = [genuine.Datasets[0] with { CiphertextSha256 = "ab" }] };

        var verification = Verify(bundle);

        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "dataset digests" && !c.Passed);
    }

    [Theory]
    [InlineData("privacy")]
    [InlineData("datasets")]
    [InlineData("outputs")]
    [InlineData("columns")]
    [InlineData("jobId")]
    public void A_signed_record_with_a_null_member_is_not_a_result_record(string member)
    {
        // Found in review: "privacy": null (and the like) threw a NullReferenceException out of `result verify`.
        var genuine = Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey);
        Assert.True(Jws.TryDecode(genuine.ResultJws, out var decoded, out _));
        var payload = JsonNode.Parse(decoded!.PayloadBytes)!.AsObject();
        payload[member] = null;
        var bundle = genuine with { ResultJws = Jws.SignBytes(CanonicalJson.Canonicalize(payload), _enclave, StatementTypes.Result) };

        var verification = Verify(bundle);

        Assert.False(verification.IsValid);
        Assert.Contains(verification.Checks, c => c.Name == "result format" && !c.Passed);
    }

    [Theory]
    [InlineData("votes", null)]
    [InlineData("votes", 0)]
    [InlineData("contractSignatures", null)]
    [InlineData("contractSignatures", 0)]
    [InlineData("requiredApprovers", null)]
    [InlineData("datasets", null)]
    [InlineData("datasets", 0)]
    [InlineData("contract.parties", null)]
    [InlineData("contract.parties", 0)]
    [InlineData("contract.datasets", 0)]
    public async Task A_bundle_file_with_a_null_list_or_list_element_is_refused_in_one_line(string member, int? element)
    {
        // Found in review: each threw a NullReferenceException (or ArgumentNullException) out of `result verify`.
        var bundle = Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey) with { AttestationJwks = JsonDocument.Parse(AuthorityJwks()).RootElement.Clone() };
        var node = JsonSerializer.SerializeToNode(bundle, CanonicalJson.SerializerOptions)!.AsObject();
        var path = member.Split('.');
        var parent = path.Length == 2 ? node[path[0]]!.AsObject() : node;
        if (element is { } i)
        {
            parent[path[^1]]!.AsArray()[i] = null;
        }
        else
        {
            parent[path[^1]] = null;
        }

        var file = Path.Combine(Path.GetTempPath(), $"cleanroom-bundle-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, node.ToJsonString());
        try
        {
            var ex = await Assert.ThrowsAsync<CliException>(() => CliApp.VerifyResultFileAsync(file, "simulated", Processes.Policies, json: true, default, null, _advertiser));
            Assert.Equal("result.malformed", ex.Code);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("../{dir}/simulated", null)]
    [InlineData("/etc/passwd", null)]
    [InlineData("simulated", "../{dir}/simulated")]
    public async Task A_policy_named_by_a_path_is_refused_not_loaded(string contractPolicy, string? option)
    {
        // "../{dir}/simulated" is a path to a real policy file: the old code loaded it.
        var dir = Path.GetFileName(Path.TrimEndingDirectorySeparator(Processes.Policies));
        (contractPolicy, option) = (contractPolicy.Replace("{dir}", dir, StringComparison.Ordinal), option?.Replace("{dir}", dir, StringComparison.Ordinal));
        // The bundle names its contract's policy; without --policy that name used to be joined to the policy directory as given.
        var bundle = Bundle([_retailer, _advertiser, _manager], _advertiser.Identity.EncryptionKey) with { AttestationJwks = JsonDocument.Parse(AuthorityJwks()).RootElement.Clone() };
        var node = JsonSerializer.SerializeToNode(bundle, CanonicalJson.SerializerOptions)!.AsObject();
        node["contract"]!["attestationPolicy"] = contractPolicy;
        var file = Path.Combine(Path.GetTempPath(), $"cleanroom-bundle-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, node.ToJsonString());
        try
        {
            var ex = await Assert.ThrowsAsync<CliException>(() => CliApp.VerifyResultFileAsync(file, option, Processes.Policies, json: true, default, null, _advertiser));
            Assert.Equal("policy.unusable", ex.Code);
            Assert.DoesNotContain("passwd", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public void Dispose()
    {
        _authority.Dispose();
        _enclave.Dispose();
        _server.Dispose();
        _retailer.Dispose();
        _advertiser.Dispose();
        _manager.Dispose();
    }
}

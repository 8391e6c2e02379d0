using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CleanRoom.Core;

/// <summary>
/// A clean-room contract: who takes part with which roles, which datasets exist with their
/// schemas, and under which attestation policy keys may be released. Its identity is the
/// SHA-256 of its RFC 8785 canonical JSON; every party signs that hash.
/// </summary>
public sealed record ContractDocument
{
    public required string Id { get; init; }

    public int Version { get; init; } = 1;

    public required string Title { get; init; }

    public required IReadOnlyList<ContractParty> Parties { get; init; }

    public required IReadOnlyList<DatasetDeclaration> Datasets { get; init; }

    public required DateTimeOffset ValidFrom { get; init; }

    public required DateTimeOffset ValidUntil { get; init; }

    /// <summary>Name of the attestation policy in attestation-policies/ (without .json).</summary>
    public required string AttestationPolicy { get; init; }

    /// <summary>The smallest k any computation may use (default 10).</summary>
    public int MinimumK { get; init; } = 10;

    public string Hash() => Hashing.Sha256Hex(CanonicalJson.Serialize(this));

    /// <summary>
    /// The dataset id a provider writes into the envelope of <paramref name="datasetName"/> and the enclave requires:
    /// contract id, contract hash and dataset name. The envelope's authenticated header binds the ciphertext to this exact
    /// contract, so an operator cannot feed it to a job of another contract that declares a dataset of the same name.
    /// </summary>
    public string DatasetEnvelopeId(string datasetName) => $"{Id}/{Hash()}/{datasetName}";

    public ContractParty? FindParty(string name) => Parties.FirstOrDefault(p => p.Name == name);

    public ContractParty? FindPartyByKeyId(string keyId) => Parties.FirstOrDefault(p => PartyKeys.KeyId(p.SigningKey) == keyId);

    public DatasetDeclaration? FindDataset(string name) => Datasets.FirstOrDefault(d => d.Name == name);

    public bool IsWithinValidity(DateTimeOffset now) => now >= ValidFrom && now < ValidUntil;

    public static ContractParseResult Parse(ReadOnlySpan<byte> json)
    {
        ContractDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ContractDocument>(json, CanonicalJson.SerializerOptions);
        }
        catch (JsonException ex)
        {
            return ContractParseResult.Fail($"contract is not valid JSON or lacks a required field ({FirstLine(ex.Message)})");
        }

        if (doc is null)
        {
            return ContractParseResult.Fail("contract is empty");
        }

        var error = ContractValidator.Validate(doc);
        return error is null ? ContractParseResult.Ok(doc) : ContractParseResult.Fail(error);
    }

    private static string FirstLine(string message)
    {
        var i = message.IndexOfAny(['\r', '\n']);
        return i < 0 ? message : message[..i];
    }
}

public sealed record ContractParty(string Name, IReadOnlyList<string> Roles, string SigningKey, string EncryptionKey)
{
    public bool Has(string role) => Roles.Contains(role);
}

public sealed record DatasetDeclaration
{
    public required string Name { get; init; }

    public required string Owner { get; init; }

    public required IReadOnlyList<DatasetColumn> Columns { get; init; }

    public required string PrivacyUnit { get; init; }

    public IReadOnlyList<string> JoinColumns { get; init; } = [];

    /// <summary>The total (ε, δ) differential-privacy budget of this dataset over the contract's life; null means DP runs on it are refused.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyBudget? Budget { get; init; }
}

/// <summary>A total differential-privacy budget: every DP run reading the dataset charges its (ε, δ) once, never refunded.</summary>
public sealed record PrivacyBudget(decimal Epsilon, decimal Delta)
{
    /// <summary>An amount as exact invariant text without trailing zeros (0.250 → 0.25); decimal has at most 28 fraction digits.</summary>
    public static string Format(decimal amount) => amount.ToString("0.############################", CultureInfo.InvariantCulture);
}

public sealed record DatasetColumn(string Name, string Type)
{
    /// <summary>True when <paramref name="type"/> is one of the column types a contract may declare (the exact text, e.g. DECIMAL(18,2)).</summary>
    public static bool IsSupportedType(string type) => ContractValidator.IsColumnType(type);
}

public sealed record ContractParseResult
{
    public ContractDocument? Contract { get; private init; }

    public string? Error { get; private init; }

    public bool IsValid => Contract is not null;

    public static ContractParseResult Ok(ContractDocument c) => new() { Contract = c };

    public static ContractParseResult Fail(string error) => new() { Error = error };
}

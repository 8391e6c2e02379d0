namespace CleanRoom.Core;

/// <summary>
/// A proposed computation: approved SQL plus its typed parameters, privacy specification
/// and result recipients. Its hash (SHA-256 of canonical JSON) is what votes sign.
/// </summary>
public sealed record ComputationDocument
{
    public required string Id { get; init; }

    public required string ContractId { get; init; }

    public required string ContractHash { get; init; }

    public required string Sql { get; init; }

    public IReadOnlyList<ParameterDeclaration> Parameters { get; init; } = [];

    public required PrivacySpec Privacy { get; init; }

    public required IReadOnlyList<string> Recipients { get; init; }

    public required string ProposedBy { get; init; }

    public string Hash() => Hashing.Sha256Hex(CanonicalJson.Serialize(this));

    public string SqlSha256() => Hashing.Sha256Hex(Sql);
}

public sealed record ParameterDeclaration(string Name, string Type, IReadOnlyList<string>? AllowedValues = null, string? Min = null, string? Max = null);

/// <summary>Mode "aggregate": every released group has at least <see cref="MinDistinctUnits"/> distinct privacy units.</summary>
public sealed record PrivacySpec(string Mode, int MinDistinctUnits = 10);

using System.Text.Json.Serialization;

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

/// <summary>
/// Mode "aggregate": every released group has at least <see cref="MinDistinctUnits"/> distinct privacy units.
/// Mode "dp": the output is computed by the per-unit differential-privacy pipeline described by <see cref="Dp"/>.
/// </summary>
public sealed record PrivacySpec(string Mode, int MinDistinctUnits = 10)
{
    public const string AggregateMode = "aggregate";
    public const string DpMode = "dp";

    /// <summary>The DP parameters; required in mode "dp", absent otherwise (omitted from the canonical JSON when null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DpSpec? Dp { get; init; }
}

/// <summary>
/// The approved differential-privacy parameters of a computation. The run costs (<see cref="Epsilon"/>, <see cref="Delta"/>)
/// against the budget of every dataset the SQL reads.
/// </summary>
public sealed record DpSpec
{
    public required decimal Epsilon { get; init; }

    /// <summary>δ for private partition selection; may be 0 only when <see cref="PublicGroups"/> is given.</summary>
    public decimal Delta { get; init; }

    /// <summary>L0: the number of output groups one privacy unit may contribute to.</summary>
    public int MaxGroupsContributed { get; init; } = 1;

    /// <summary>The table (catalog name) whose privacy unit is the DP unit; null means the first table in FROM.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UnitTable { get; init; }

    /// <summary>Clamping bounds, one per aggregate output column (by output name). Never data-derived.</summary>
    public IReadOnlyList<DpColumnBound> Bounds { get; init; } = [];

    /// <summary>Public group keys (each the group-by values, as strings, in GROUP BY order); null means private partition selection.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<IReadOnlyList<string>>? PublicGroups { get; init; }
}

/// <summary>Per-unit contribution bounds of one DP output column, and the grid its sum lives on.</summary>
public sealed record DpColumnBound(string Column, decimal Lower, decimal Upper, decimal Granularity = 1m);

namespace CleanRoom.Core;

/// <summary>Structural rules every contract must satisfy before anyone can sign it.</summary>
internal static class ContractValidator
{
    private static readonly HashSet<string> s_columnTypes = new(StringComparer.Ordinal)
    {
        "VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "DATE", "BOOLEAN", "DECIMAL(18,2)", "TIMESTAMP",
    };

    /// <summary>True when <paramref name="type"/> is one of the column types a contract may declare.</summary>
    public static bool IsColumnType(string type) => s_columnTypes.Contains(type);

    public static string? Validate(ContractDocument c)
    {
        if (!PartyIdentity.IsValidName(c.Id))
        {
            return "contract id must be 1-64 characters of a-z, 0-9, '-' and '_'";
        }

        if (c.Version < 1)
        {
            return "contract version must be 1 or more";
        }

        if (string.IsNullOrWhiteSpace(c.Title))
        {
            return "contract title is empty";
        }

        if (c.ValidUntil <= c.ValidFrom)
        {
            return "contract validUntil must be after validFrom";
        }

        if (!PartyIdentity.IsValidName(c.AttestationPolicy))
        {
            return "contract attestationPolicy must name a policy file in attestation-policies/";
        }

        if (c.MinimumK < 2)
        {
            return "contract minimumK must be at least 2";
        }

        if (c.Parties is null || c.Parties.Count == 0)
        {
            return "contract lists no parties";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in c.Parties)
        {
            if (!PartyIdentity.IsValidName(p.Name))
            {
                return $"party name '{Trim(p.Name)}' is not valid";
            }

            if (!names.Add(p.Name))
            {
                return $"party '{p.Name}' is listed twice";
            }

            if (p.Roles is null || p.Roles.Count == 0)
            {
                return $"party '{p.Name}' has no role";
            }

            foreach (var r in p.Roles)
            {
                if (!Roles.All.Contains(r))
                {
                    return $"party '{p.Name}' has unknown role '{Trim(r)}'";
                }
            }

            if (!PartyKeys.TryImportSigningPublicKey(p.SigningKey, out _))
            {
                return $"party '{p.Name}' has an invalid Ed25519 signing key";
            }

            if (!PartyKeys.TryImportEncryptionPublicKey(p.EncryptionKey, out _))
            {
                return $"party '{p.Name}' has an invalid X25519 encryption key (not 32 bytes of base64url, or a low-order point no result can be sealed to)";
            }

            if (!keys.Add(p.SigningKey))
            {
                return $"party '{p.Name}' reuses another party's signing key";
            }
        }

        if (!c.Parties.Any(p => p.Has(Roles.ContractManager)))
        {
            return "contract has no contract-manager";
        }

        if (c.Datasets is null || c.Datasets.Count == 0)
        {
            return "contract declares no dataset";
        }

        var datasetNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in c.Datasets)
        {
            if (!PartyIdentity.IsValidName(d.Name))
            {
                return $"dataset name '{Trim(d.Name)}' is not valid";
            }

            if (!datasetNames.Add(d.Name))
            {
                return $"dataset '{d.Name}' is declared twice";
            }

            var owner = c.FindParty(d.Owner);
            if (owner is null || !owner.Has(Roles.DataProvider))
            {
                return $"dataset '{d.Name}' is owned by '{Trim(d.Owner)}', who is not a data-provider in this contract";
            }

            if (d.Columns is null || d.Columns.Count == 0)
            {
                return $"dataset '{d.Name}' declares no column";
            }

            var columns = new HashSet<string>(StringComparer.Ordinal);
            foreach (var col in d.Columns)
            {
                if (!PartyIdentity.IsValidName(col.Name))
                {
                    return $"dataset '{d.Name}' has an invalid column name '{Trim(col.Name)}'";
                }

                if (!columns.Add(col.Name))
                {
                    return $"dataset '{d.Name}' declares column '{col.Name}' twice";
                }

                if (!s_columnTypes.Contains(col.Type))
                {
                    return $"dataset '{d.Name}' column '{col.Name}' has unsupported type '{Trim(col.Type)}'";
                }
            }

            if (!columns.Contains(d.PrivacyUnit))
            {
                return $"dataset '{d.Name}' privacy unit '{Trim(d.PrivacyUnit)}' is not one of its columns";
            }

            foreach (var j in d.JoinColumns ?? [])
            {
                if (!columns.Contains(j))
                {
                    return $"dataset '{d.Name}' join column '{Trim(j)}' is not one of its columns";
                }
            }

            if (d.Budget is { } budget && BudgetError(budget) is { } budgetError)
            {
                return $"dataset '{d.Name}' budget {budgetError}";
            }
        }

        return null;
    }

    // decimal has no NaN or infinity, and JSON numbers beyond its range fail to parse, so every budget that gets
    // here is finite; what is left to check is the range, and that the signed document keeps the exact value.
    private static string? BudgetError(PrivacyBudget budget) =>
        budget.Epsilon <= 0 ? "needs ε > 0"
        : budget.Delta is < 0 or >= 1 ? "needs 0 ≤ δ < 1"
        : !CanonicalJson.IsExact(budget.Epsilon) || !CanonicalJson.IsExact(budget.Delta)
            ? "has more significant digits than a signed document keeps (about 15): its hash would also match a different value"
        : null;

    private static string Trim(string? s) => s is null ? "(null)" : s.Length > 40 ? s[..40] + "…" : s;
}

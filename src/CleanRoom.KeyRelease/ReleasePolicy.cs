// Azure Key Vault / Managed HSM Secure Key Release policy grammar, version 1.0.0
// (learn.microsoft.com/azure/key-vault/keys/policy-grammar). Evaluated against the claims of an
// attestation token whose signature, issuer key and lifetime the caller has already validated.
using CleanRoom.KeyRelease.Internal;

namespace CleanRoom.KeyRelease;

/// <summary>
/// A parsed Secure Key Release policy:
/// <c>{"version":"1.0.0","anyOf":[{"authority":"https://…","allOf"|"anyOf":[conditions]}]}</c>,
/// where a condition is <c>{"claim":"dot.path","equals"|"notEquals"|"less"|"lessOrEquals"|"greater"|"greaterOrEquals"|"exists":value}</c>
/// or a nested <c>{"allOf":[…]}</c>/<c>{"anyOf":[…]}</c>.
/// Parsing is strict: an unknown key or operator, another version, an empty list, duplicate
/// property names or malformed JSON all fail to parse, and a policy that does not parse denies.
/// </summary>
public sealed class ReleasePolicy
{
    /// <summary>The only grammar version accepted.</summary>
    public const string SupportedVersion = "1.0.0";

    private const int MaxClaimPathLength = 256;

    private static readonly Dictionary<string, PolicyOperator> Operators = new(StringComparer.Ordinal)
    {
        ["equals"] = PolicyOperator.EqualTo,
        ["notEquals"] = PolicyOperator.NotEqualTo,
        ["less"] = PolicyOperator.Less,
        ["lessOrEquals"] = PolicyOperator.LessOrEquals,
        ["greater"] = PolicyOperator.Greater,
        ["greaterOrEquals"] = PolicyOperator.GreaterOrEquals,
        ["exists"] = PolicyOperator.Exists,
    };

    private readonly IReadOnlyList<PolicyAuthority> _authorities;

    private ReleasePolicy(string json, IReadOnlyList<PolicyAuthority> authorities)
    {
        Json = json;
        _authorities = authorities;
    }

    /// <summary>The policy text exactly as parsed (what Key Vault stores base64url-encoded in <c>release_policy.data</c>).</summary>
    public string Json { get; }

    /// <summary>Parses a release policy; any deviation from the grammar is a typed failure, never an exception.</summary>
    public static ReleasePolicyParseResult Parse(string json)
    {
        if (!KeyReleaseJson.TryParse(json, out var document))
        {
            return ReleasePolicyParseResult.Malformed("not valid JSON (or duplicate property names, or a lone UTF-16 surrogate escape).");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ReleasePolicyParseResult.Malformed("the top level is not a JSON object.");
            }

            string? version = null;
            JsonElement? anyOf = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "version":
                        version = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                        break;
                    case "anyOf":
                        anyOf = property.Value;
                        break;
                    default:
                        return ReleasePolicyParseResult.Malformed($"unknown key '{Printable(property.Name)}' at the top level.");
                }
            }

            if (!string.Equals(version, SupportedVersion, StringComparison.Ordinal))
            {
                return ReleasePolicyParseResult.Malformed($"'version' must be \"{SupportedVersion}\".");
            }

            if (anyOf is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() == 0)
            {
                return ReleasePolicyParseResult.Malformed("'anyOf' must be a non-empty array of authorities.");
            }

            var authorities = new List<PolicyAuthority>();
            var index = 0;
            foreach (var entry in list.EnumerateArray())
            {
                var error = TryParseAuthority(entry, $"anyOf[{index}]", out var authority);
                if (error is not null)
                {
                    return ReleasePolicyParseResult.Malformed(error);
                }

                authorities.Add(authority!);
                index++;
            }

            return ReleasePolicyParseResult.Success(new ReleasePolicy(json, authorities));
        }
    }

    /// <summary>
    /// Decides whether a key may be released to the holder of a token with these claims.
    /// SECURITY: the caller must already have validated the token's signature against the
    /// issuer's published keys, and its lifetime; this method trusts <c>iss</c> and every claim
    /// as given. Allowed when some authority entry whose URL equals <c>iss</c> (compared as URLs: scheme and
    /// host case-insensitive, trailing slashes ignored, dot segments resolved; see PolicyAuthority.Normalize) has its
    /// conditions met.
    /// </summary>
    public ReleaseDecision Evaluate(JsonElement tokenClaims)
    {
        if (tokenClaims.ValueKind != JsonValueKind.Object)
        {
            return ReleaseDecision.Denied(KeyReleaseErrorCodes.PolicyClaimsInvalid, "Release denied: token claims are not a JSON object.");
        }

        if (!KeyReleaseJson.IsWellFormedText(tokenClaims))
        {
            return ReleaseDecision.Denied(KeyReleaseErrorCodes.PolicyClaimsInvalid, "Release denied: token claims hold a string that is not valid UTF-16 (a lone surrogate escape).");
        }

        var issuer = PolicyAuthority.Normalize(KeyReleaseJson.GetString(tokenClaims, "iss"));
        if (issuer is null)
        {
            return ReleaseDecision.Denied(KeyReleaseErrorCodes.PolicyClaimsInvalid, "Release denied: token has no usable 'iss' claim.");
        }

        UnmetCondition? firstUnmet = null;
        foreach (var authority in _authorities)
        {
            if (!string.Equals(authority.NormalizedAuthority, issuer, StringComparison.Ordinal))
            {
                continue;
            }

            if (authority.Condition.Evaluate(tokenClaims, out var unmet))
            {
                return ReleaseDecision.Allowed();
            }

            firstUnmet ??= unmet;
        }

        return firstUnmet is { } u
            ? ReleaseDecision.ConditionNotMet(u.Claim, u.Operator)
            : ReleaseDecision.Denied(KeyReleaseErrorCodes.PolicyAuthorityMismatch, "Release denied: the token issuer is not an authority of this policy.");
    }

    private static string? TryParseAuthority(JsonElement entry, string where, out PolicyAuthority? authority)
    {
        authority = null;
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return $"{where} is not an object.";
        }

        string? url = null;
        PolicyCondition? condition = null;
        foreach (var property in entry.EnumerateObject())
        {
            switch (property.Name)
            {
                case "authority":
                    url = property.Value.ValueKind == JsonValueKind.String ? PolicyAuthority.Normalize(property.Value.GetString()) : null;
                    if (url is null)
                    {
                        return $"{where}.authority must be an absolute http(s) URL without query or fragment.";
                    }

                    break;
                case "allOf" or "anyOf":
                    if (condition is not null)
                    {
                        return $"{where} has both 'allOf' and 'anyOf'.";
                    }

                    var error = TryParseGroup(property.Value, property.Name == "allOf", $"{where}.{property.Name}", out condition);
                    if (error is not null)
                    {
                        return error;
                    }

                    break;
                default:
                    return $"unknown key '{Printable(property.Name)}' in {where}.";
            }
        }

        if (url is null)
        {
            return $"{where} has no 'authority'.";
        }

        if (condition is null)
        {
            return $"{where} needs 'allOf' or 'anyOf'.";
        }

        authority = new PolicyAuthority(url, condition);
        return null;
    }

    private static string? TryParseGroup(JsonElement value, bool requireAll, string where, out PolicyCondition? group)
    {
        group = null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            // An empty allOf would be vacuously true (allow-all); refuse it rather than guess.
            return $"{where} must be a non-empty array.";
        }

        var children = new List<PolicyCondition>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var error = TryParseCondition(item, $"{where}[{index}]", out var child);
            if (error is not null)
            {
                return error;
            }

            children.Add(child!);
            index++;
        }

        group = new ConditionGroup(requireAll, children);
        return null;
    }

    private static string? TryParseCondition(JsonElement item, string where, out PolicyCondition? condition)
    {
        condition = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return $"{where} is not an object.";
        }

        if (item.TryGetProperty("allOf", out _) || item.TryGetProperty("anyOf", out _))
        {
            var properties = item.EnumerateObject().ToList();
            if (properties.Count != 1)
            {
                return $"{where} must hold exactly one of 'allOf' or 'anyOf' and nothing else.";
            }

            return TryParseGroup(properties[0].Value, properties[0].Name == "allOf", $"{where}.{properties[0].Name}", out condition);
        }

        string? claim = null;
        string? operatorName = null;
        JsonElement operand = default;
        foreach (var property in item.EnumerateObject())
        {
            if (property.Name == "claim")
            {
                claim = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                if (claim is null)
                {
                    return $"{where}.claim must be a string.";
                }
            }
            else if (Operators.ContainsKey(property.Name))
            {
                if (operatorName is not null)
                {
                    return $"{where} has more than one operator.";
                }

                operatorName = property.Name;
                operand = property.Value;
            }
            else
            {
                return $"unknown key or operator '{Printable(property.Name)}' in {where}.";
            }
        }

        if (claim is null || operatorName is null)
        {
            return $"{where} needs 'claim' and one operator.";
        }

        var path = claim.Split('.');
        if (claim.Length > MaxClaimPathLength || path.Any(string.IsNullOrEmpty))
        {
            return $"{where}.claim is not a valid dot path.";
        }

        var op = Operators[operatorName];
        var value = PolicyValue.FromJson(operand);
        if (value is null)
        {
            return $"{where}.{operatorName} must be a string, number or boolean.";
        }

        if (op == PolicyOperator.Exists && value.Boolean != true)
        {
            // "exists": false would make absence a grant; only positive existence is supported.
            return $"{where}.exists must be true.";
        }

        if (op is PolicyOperator.Less or PolicyOperator.LessOrEquals or PolicyOperator.Greater or PolicyOperator.GreaterOrEquals
            && value.Number is null)
        {
            return $"{where}.{operatorName} needs a number (or a numeric string).";
        }

        condition = new ClaimCondition(claim, path, op, operatorName, value);
        return null;
    }

    private static string Printable(string name)
    {
        var clean = new string(name.Where(c => !char.IsControl(c)).Take(64).ToArray());
        return clean.Length < name.Length ? clean + "…" : clean;
    }
}

// Microsoft Azure Attestation policy language, version 1.0 subset (learn.microsoft.com,
// "Claim and policy rules"): authorizationrules with permit()/deny(), issuancerules with
// issue(); conditions [type=="…", value OP literal] joined by &&; integers compare with
// == != < <= > >=, strings and booleans with == and !=.
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using CleanRoom.Attestation.Internal;
using static CleanRoom.Attestation.Internal.MaaPolicyModel;

namespace CleanRoom.Attestation;

/// <summary>
/// A parsed MAA policy. Evaluation fails closed: authorization rules are tried in order, the
/// first rule whose conditions all hold decides (permit or deny), and when none holds the
/// answer is deny. A condition on a missing claim, or on a claim of another type, does not hold.
/// </summary>
public sealed class MaaPolicy
{
    private readonly IReadOnlyList<Rule> _authorization;
    private readonly IReadOnlyList<Rule> _issuance;

    private MaaPolicy(IReadOnlyList<Rule> authorization, IReadOnlyList<Rule> issuance)
    {
        _authorization = authorization;
        _issuance = issuance;
    }

    public int AuthorizationRuleCount => _authorization.Count;

    public int IssuanceRuleCount => _issuance.Count;

    public static MaaPolicyParseResult Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return MaaPolicyParseResult.Failure("the policy is empty");
        }

        try
        {
            MaaPolicyParser parser = MaaPolicyParser.Parse(text);
            return MaaPolicyParseResult.Success(new MaaPolicy(parser.Authorization ?? [], parser.Issuance ?? []));
        }
        catch (MaaPolicySyntaxException e)
        {
            return MaaPolicyParseResult.Failure(e.Message);
        }
    }

    /// <summary>Evaluates the rules over a claim set (a JSON object such as a token payload).</summary>
    public MaaPolicyEvaluationResult Evaluate(JsonElement claims)
    {
        if (claims.ValueKind != JsonValueKind.Object)
        {
            return MaaPolicyEvaluationResult.Denied("the claim set is not a JSON object");
        }

        bool permitted = false;
        string reason = "no authorization rule matched";
        foreach (Rule rule in _authorization)
        {
            if (Match(rule, claims, out _))
            {
                permitted = rule.Action.Kind == ActionKind.Permit;
                reason = $"authorization rule at line {rule.Line} denies";
                break;
            }
        }

        if (!permitted)
        {
            return MaaPolicyEvaluationResult.Denied(reason);
        }

        var issued = new List<KeyValuePair<string, JsonElement>>();
        foreach (Rule rule in _issuance)
        {
            if (!Match(rule, claims, out Dictionary<string, (string Type, JsonElement Value)> bound))
            {
                continue;
            }

            RuleAction a = rule.Action;
            if (a.WholeClaim)
            {
                (string type, JsonElement value) = bound[a.ValueFromLabel!];
                issued.Add(new(type, value.Clone()));
            }
            else if (a.ValueFromLabel is not null)
            {
                issued.Add(new(a.IssueType!, bound[a.ValueFromLabel].Value.Clone()));
            }
            else
            {
                issued.Add(new(a.IssueType!, ToJson(a.Value!)));
            }
        }

        return MaaPolicyEvaluationResult.Permitted(issued);
    }

    private static bool Match(Rule rule, JsonElement claims, out Dictionary<string, (string Type, JsonElement Value)> bound)
    {
        bound = new Dictionary<string, (string, JsonElement)>(StringComparer.Ordinal);
        foreach (Condition c in rule.Conditions)
        {
            if (!claims.TryGetProperty(c.ClaimType, out JsonElement value) || !Holds(c, value))
            {
                return false;
            }

            if (c.Label is not null)
            {
                bound[c.Label] = (c.ClaimType, value);
            }
        }

        return true;
    }

    private static bool Holds(Condition c, JsonElement value)
    {
        if (c.Operator is null || c.Value is null)
        {
            return true;
        }

        Literal l = c.Value;
        switch (l.Kind)
        {
            case LiteralKind.Integer when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n):
                return c.Operator switch
                {
                    "==" => n == l.Integer,
                    "!=" => n != l.Integer,
                    "<" => n < l.Integer,
                    "<=" => n <= l.Integer,
                    ">" => n > l.Integer,
                    ">=" => n >= l.Integer,
                    _ => false,
                };
            case LiteralKind.String when value.ValueKind == JsonValueKind.String:
                bool eq = string.Equals(value.GetString(), l.String, StringComparison.Ordinal);
                return c.Operator == "==" ? eq : c.Operator == "!=" && !eq;
            case LiteralKind.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                bool same = value.GetBoolean() == l.Boolean;
                return c.Operator == "==" ? same : c.Operator == "!=" && !same;
            default:
                return false;
        }
    }

    private static JsonElement ToJson(Literal l)
    {
        string json = l.Kind switch
        {
            LiteralKind.Integer => l.Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
            LiteralKind.Boolean => l.Boolean ? "true" : "false",
            _ => JsonSerializer.Serialize(l.String),
        };
        using JsonDocument doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}

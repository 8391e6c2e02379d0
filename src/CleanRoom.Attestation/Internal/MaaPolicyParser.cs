// Recursive-descent parser for the MAA attestation policy language, version 1.0 subset:
//   policy    := 'version' '=' '1.0' ';' section*
//   section   := ('authorizationrules' | 'issuancerules') '{' rule* '}' ';'
//   rule      := [cond ('&&' cond)*] '=>' action ';'
//   cond      := [label ':'] '[' 'type' '==' STRING [',' 'value' op literal] ']'
//   action    := 'permit' '(' ')' | 'deny' '(' ')'
//              | 'issue' '(' 'type' '=' STRING ',' 'value' '=' (literal | label '.' 'value') ')'
//              | 'issue' '(' 'claim' '=' label ')'
using System.Globalization;
using static CleanRoom.Attestation.Internal.MaaPolicyLexer;
using static CleanRoom.Attestation.Internal.MaaPolicyModel;

namespace CleanRoom.Attestation.Internal;

internal sealed class MaaPolicyParser
{
    private static readonly HashSet<string> Operators = new(StringComparer.Ordinal) { "==", "!=", "<", "<=", ">", ">=" };
    private readonly List<Token> _tokens;
    private int _pos;

    private MaaPolicyParser(List<Token> tokens) => _tokens = tokens;

    public List<Rule>? Authorization { get; private set; }

    public List<Rule>? Issuance { get; private set; }

    public static MaaPolicyParser Parse(string text)
    {
        if (!TryTokenize(text, out List<Token> tokens, out string? error))
        {
            throw new MaaPolicySyntaxException(error!);
        }

        var parser = new MaaPolicyParser(tokens);
        parser.ParsePolicy();
        return parser;
    }

    private Token Current => _tokens[_pos];

    private void ParsePolicy()
    {
        ExpectIdentifier("version");
        Expect("=");
        Token version = Next();
        if (version.Kind != Kind.Number || version.Text != "1.0")
        {
            throw Error(version, "only version=1.0 is supported");
        }

        Expect(";");
        while (Current.Kind != Kind.End)
        {
            Token section = Next();
            bool authorization = section is { Kind: Kind.Identifier, Text: "authorizationrules" };
            if (!authorization && section is not { Kind: Kind.Identifier, Text: "issuancerules" })
            {
                throw Error(section, "expected 'authorizationrules' or 'issuancerules'");
            }

            if ((authorization ? Authorization : Issuance) is not null)
            {
                throw Error(section, $"'{section.Text}' appears twice");
            }

            Expect("{");
            var rules = new List<Rule>();
            while (!IsSymbol("}"))
            {
                rules.Add(ParseRule(authorization));
            }

            Expect("}");
            Expect(";");
            if (authorization)
            {
                Authorization = rules;
            }
            else
            {
                Issuance = rules;
            }
        }
    }

    private Rule ParseRule(bool authorization)
    {
        int line = Current.Line;
        var conditions = new List<Condition>();
        if (!IsSymbol("=>"))
        {
            conditions.Add(ParseCondition());
            while (IsSymbol("&&"))
            {
                Next();
                conditions.Add(ParseCondition());
            }
        }

        Expect("=>");
        RuleAction action = ParseAction(conditions);
        if (authorization != (action.Kind != ActionKind.Issue))
        {
            throw new MaaPolicySyntaxException($"line {line}: {(authorization ? "authorization rules permit() or deny()" : "issuance rules issue()")}");
        }

        Expect(";");
        return new Rule(conditions, action, line);
    }

    private Condition ParseCondition()
    {
        string? label = null;
        if (Current.Kind == Kind.Identifier)
        {
            label = Next().Text;
            Expect(":");
        }

        Expect("[");
        ExpectIdentifier("type");
        Expect("==");
        string type = ExpectString();
        string? op = null;
        Literal? value = null;
        if (IsSymbol(","))
        {
            Next();
            ExpectIdentifier("value");
            Token opToken = Next();
            if (opToken.Kind != Kind.Symbol || !Operators.Contains(opToken.Text))
            {
                throw Error(opToken, "expected a comparison operator");
            }

            op = opToken.Text;
            value = ParseLiteral();
            if (value.Kind != LiteralKind.Integer && op is not ("==" or "!="))
            {
                throw Error(opToken, "strings and booleans compare only with == and !=");
            }
        }

        Expect("]");
        return new Condition(label, type, op, value);
    }

    private RuleAction ParseAction(List<Condition> conditions)
    {
        Token name = Next();
        Expect("(");
        RuleAction action;
        switch (name)
        {
            case { Kind: Kind.Identifier, Text: "permit" }:
                action = new RuleAction(ActionKind.Permit, null, null, null, false);
                break;
            case { Kind: Kind.Identifier, Text: "deny" }:
                action = new RuleAction(ActionKind.Deny, null, null, null, false);
                break;
            case { Kind: Kind.Identifier, Text: "issue" }:
                if (Current is { Kind: Kind.Identifier, Text: "claim" })
                {
                    Next();
                    Expect("=");
                    string whole = RequireLabel(conditions, Next());
                    action = new RuleAction(ActionKind.Issue, null, null, whole, true);
                    break;
                }

                ExpectIdentifier("type");
                Expect("=");
                string type = ExpectString();
                Expect(",");
                ExpectIdentifier("value");
                Expect("=");
                if (Current.Kind == Kind.Identifier && Current.Text is not ("true" or "false"))
                {
                    string label = RequireLabel(conditions, Next());
                    Expect(".");
                    ExpectIdentifier("value");
                    action = new RuleAction(ActionKind.Issue, type, null, label, false);
                }
                else
                {
                    action = new RuleAction(ActionKind.Issue, type, ParseLiteral(), null, false);
                }

                break;
            default:
                throw Error(name, "expected permit(), deny() or issue(...)");
        }

        Expect(")");
        return action;
    }

    private string RequireLabel(List<Condition> conditions, Token token)
    {
        if (token.Kind != Kind.Identifier || !conditions.Any(c => c.Label == token.Text))
        {
            throw Error(token, $"'{token.Text}' is not a label bound by this rule's conditions");
        }

        return token.Text;
    }

    private Literal ParseLiteral()
    {
        Token t = Next();
        return t switch
        {
            { Kind: Kind.String } => new Literal(LiteralKind.String, t.Text, 0, false),
            { Kind: Kind.Identifier, Text: "true" } => new Literal(LiteralKind.Boolean, null, 0, true),
            { Kind: Kind.Identifier, Text: "false" } => new Literal(LiteralKind.Boolean, null, 0, false),
            { Kind: Kind.Number } when long.TryParse(t.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) =>
                new Literal(LiteralKind.Integer, null, n, false),
            _ => throw Error(t, "expected a string, integer or boolean"),
        };
    }

    private Token Next()
    {
        Token t = Current;
        if (t.Kind != Kind.End)
        {
            _pos++;
        }

        return t;
    }

    private bool IsSymbol(string symbol) => Current.Kind == Kind.Symbol && Current.Text == symbol;

    private void Expect(string symbol)
    {
        Token t = Next();
        if (t.Kind != Kind.Symbol || t.Text != symbol)
        {
            throw Error(t, $"expected '{symbol}'");
        }
    }

    private void ExpectIdentifier(string name)
    {
        Token t = Next();
        if (t.Kind != Kind.Identifier || t.Text != name)
        {
            throw Error(t, $"expected '{name}'");
        }
    }

    private string ExpectString()
    {
        Token t = Next();
        return t.Kind == Kind.String ? t.Text : throw Error(t, "expected a string");
    }

    private static MaaPolicySyntaxException Error(Token at, string message) =>
        new($"{at.Line}:{at.Column}: {message}{(at.Kind == Kind.End ? " (at end of policy)" : $" (found '{Shorten(at.Text)}')")}");

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..24] + "…";
}

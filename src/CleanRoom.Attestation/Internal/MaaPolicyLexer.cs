// Tokenizer for the Microsoft Azure Attestation policy language (version 1.0 subset), per
// learn.microsoft.com "Claim and policy rules" / "Attestation policy version 1.0".
using System.Text;

namespace CleanRoom.Attestation.Internal;

internal static class MaaPolicyLexer
{
    public enum Kind
    {
        Identifier,
        String,
        Number,
        Symbol,
        End,
    }

    public readonly record struct Token(Kind Kind, string Text, int Line, int Column);

    private static readonly string[] Symbols = ["=>", "==", "!=", "<=", ">=", "&&", "=", "<", ">", ";", "{", "}", "[", "]", "(", ")", ",", ":", "."];

    public static bool TryTokenize(string text, out List<Token> tokens, out string? error)
    {
        tokens = [];
        error = null;
        int i = 0, line = 1, lineStart = 0;
        while (i < text.Length)
        {
            char ch = text[i];
            int column = i - lineStart + 1;
            if (ch == '\n')
            {
                line++;
                lineStart = ++i;
                continue;
            }

            if (char.IsWhiteSpace(ch))
            {
                i++;
                continue;
            }

            if (ch == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (ch == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length || text[i] == '\n')
                    {
                        error = $"unterminated string at {line}:{column}";
                        return false;
                    }

                    if (text[i] == '"')
                    {
                        i++;
                        break;
                    }

                    if (text[i] == '\\')
                    {
                        if (i + 1 >= text.Length || text[i + 1] is not ('"' or '\\'))
                        {
                            error = $"unsupported escape in string at {line}:{column}";
                            return false;
                        }

                        i++;
                    }

                    sb.Append(text[i++]);
                }

                tokens.Add(new Token(Kind.String, sb.ToString(), line, column));
                continue;
            }

            if (char.IsAsciiDigit(ch) || (ch == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                int start = i++;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || (text[i] == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Number, text[start..i], line, column));
                continue;
            }

            if (char.IsAsciiLetter(ch) || ch == '_' || ch == '$')
            {
                int start = i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '$'))
                {
                    i++;
                }

                tokens.Add(new Token(Kind.Identifier, text[start..i], line, column));
                continue;
            }

            string? symbol = Symbols.FirstOrDefault(s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0);
            if (symbol is null)
            {
                error = $"unexpected character '{ch}' at {line}:{column}";
                return false;
            }

            tokens.Add(new Token(Kind.Symbol, symbol, line, column));
            i += symbol.Length;
        }

        tokens.Add(new Token(Kind.End, string.Empty, line, text.Length - lineStart + 1));
        return true;
    }
}

using System.Text;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// A strict syntax check of a HOCON file before Akka parses it. Akka's own parser accepts almost anything (a key
/// without a value, an unclosed brace, an unterminated string) and loops forever on an unclosed array, so a typo in
/// <c>--config</c> would silently change the configuration. This checks the structure HOCON requires — keys with a
/// value (<c>=</c>, <c>:</c>, <c>+=</c> or an object), balanced braces and brackets, terminated strings and
/// substitutions — and names the file and line of the first error. <c>include "FILE"</c> is accepted (a quoted file
/// name; <see cref="HostConfig"/> reads and checks the file it names); <c>include file(…)</c>, <c>url(…)</c> and
/// <c>required(…)</c> are refused.
/// </summary>
public static class HoconSyntax
{
    enum Kind { Text, Quoted, Substitution, LBrace, RBrace, LBracket, RBracket, Separator, Append, Comma, Newline, End }

    readonly record struct Token(Kind Kind, string Text, int Line);

    /// <summary>Throws <see cref="InvalidDataException"/> "FILE:LINE: what is wrong" on the first syntax error.</summary>
    public static void Check(string text, string file)
    {
        var tokens = Tokenize(text, file);
        int pos = 0;
        ParseObjectBody(tokens, ref pos, file, openedAt: null);
    }

    static InvalidDataException Error(string file, int line, string what) => new($"{file}:{line}: {what}");

    static void ParseObjectBody(List<Token> t, ref int pos, string file, int? openedAt)
    {
        while (true)
        {
            while (t[pos].Kind is Kind.Newline or Kind.Comma) pos++;
            var start = t[pos];
            if (start.Kind == Kind.End)
            {
                if (openedAt is { } l) throw Error(file, start.Line, $"'{{' opened at line {l} is never closed.");
                return;
            }
            if (start.Kind == Kind.RBrace)
            {
                if (openedAt is null) throw Error(file, start.Line, "'}' without a matching '{'.");
                pos++;
                return;
            }
            if (start is { Kind: Kind.Text, Text: "include" } && t[pos + 1].Kind is Kind.Quoted)
            {
                pos += 2;
                var end = t[pos];
                if (end.Kind is not (Kind.Newline or Kind.Comma or Kind.RBrace or Kind.End))
                    throw Error(file, end.Line, $"unexpected {Describe(end)} after include \"{t[pos - 1].Text}\".");
                continue;
            }
            if (start is { Kind: Kind.Text } && start.Text.StartsWith("include ", StringComparison.Ordinal))
                throw Error(file, start.Line, "include takes a file name in quotes, relative to this file: include \"other.conf\".");
            var key = new StringBuilder();
            while (t[pos].Kind is Kind.Text or Kind.Quoted) key.Append(t[pos++].Text);
            if (key.Length == 0) throw Error(file, start.Line, $"expected a key, found {Describe(start)}.");
            var next = t[pos];
            switch (next.Kind)
            {
                case Kind.LBrace:
                    pos++;
                    ParseObjectBody(t, ref pos, file, next.Line);
                    break;
                case Kind.Separator or Kind.Append:
                    pos++;
                    ParseValue(t, ref pos, file, key.ToString());
                    break;
                default:
                    throw Error(file, next.Line, $"key '{key}' has no value (expected '=', ':' or '{{' after it, found {Describe(next)}).");
            }
            var after = t[pos];
            if (after.Kind is not (Kind.Newline or Kind.Comma or Kind.RBrace or Kind.End))
                throw Error(file, after.Line, $"unexpected {Describe(after)} after the value of '{key}'.");
        }
    }

    static void ParseValue(List<Token> t, ref int pos, string file, string key)
    {
        var first = t[pos];
        switch (first.Kind)
        {
            case Kind.LBrace:
                pos++;
                ParseObjectBody(t, ref pos, file, first.Line);
                return;
            case Kind.LBracket:
                pos++;
                ParseArray(t, ref pos, file, first.Line, key);
                return;
            case Kind.Text or Kind.Quoted or Kind.Substitution:
                while (t[pos].Kind is Kind.Text or Kind.Quoted or Kind.Substitution) pos++;
                return;
            default:
                throw Error(file, first.Line, $"key '{key}' has no value (found {Describe(first)}).");
        }
    }

    static void ParseArray(List<Token> t, ref int pos, string file, int openedAt, string key)
    {
        while (true)
        {
            while (t[pos].Kind is Kind.Newline or Kind.Comma) pos++;
            var next = t[pos];
            if (next.Kind == Kind.RBracket) { pos++; return; }
            if (next.Kind == Kind.End) throw Error(file, next.Line, $"'[' opened at line {openedAt} (value of '{key}') is never closed.");
            if (next.Kind is Kind.RBrace) throw Error(file, next.Line, $"'}}' inside the array opened at line {openedAt}; expected ']'.");
            ParseValue(t, ref pos, file, key);
            var after = t[pos];
            if (after.Kind is not (Kind.Newline or Kind.Comma or Kind.RBracket or Kind.End))
                throw Error(file, after.Line, $"unexpected {Describe(after)} in the array opened at line {openedAt}.");
        }
    }

    static string Describe(Token t) => t.Kind switch
    {
        Kind.End => "the end of the file",
        Kind.Newline => "the end of the line",
        Kind.Text or Kind.Quoted => $"'{t.Text}'",
        Kind.Substitution => $"'${{{t.Text}}}'",
        _ => $"'{t.Text}'",
    };

    const string Forbidden = "$\"{}[]:=,+#`^?!@*&\\";

    static List<Token> Tokenize(string s, string file)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\n') { tokens.Add(new(Kind.Newline, "\n", line)); line++; i++; continue; }
            if (char.IsWhiteSpace(c) || c == '\uFEFF') { i++; continue; }
            if (c == '#' || (c == '/' && i + 1 < s.Length && s[i + 1] == '/'))
            {
                while (i < s.Length && s[i] != '\n') i++;
                continue;
            }
            switch (c)
            {
                case '{': tokens.Add(new(Kind.LBrace, "{", line)); i++; continue;
                case '}': tokens.Add(new(Kind.RBrace, "}", line)); i++; continue;
                case '[': tokens.Add(new(Kind.LBracket, "[", line)); i++; continue;
                case ']': tokens.Add(new(Kind.RBracket, "]", line)); i++; continue;
                case ',': tokens.Add(new(Kind.Comma, ",", line)); i++; continue;
                case '=' or ':': tokens.Add(new(Kind.Separator, c.ToString(), line)); i++; continue;
                case '+' when i + 1 < s.Length && s[i + 1] == '=': tokens.Add(new(Kind.Append, "+=", line)); i += 2; continue;
            }
            if (c == '"')
            {
                if (string.CompareOrdinal(s, i, "\"\"\"", 0, 3) == 0)
                {
                    int close = s.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (close < 0) throw Error(file, line, "a \"\"\" string is never closed.");
                    var body = s[(i + 3)..close];
                    tokens.Add(new(Kind.Quoted, body, line));
                    line += body.Count(ch => ch == '\n');
                    i = close + 3;
                    continue;
                }
                var sb = new StringBuilder();
                int j = i + 1;
                for (; j < s.Length && s[j] != '"'; j++)
                {
                    if (s[j] == '\n') throw Error(file, line, "a string is not closed before the end of the line.");
                    if (s[j] == '\\' && j + 1 < s.Length) j++;
                    sb.Append(s[j]);
                }
                if (j >= s.Length) throw Error(file, line, "a string is not closed before the end of the file.");
                tokens.Add(new(Kind.Quoted, sb.ToString(), line));
                i = j + 1;
                continue;
            }
            if (c == '$')
            {
                if (i + 1 >= s.Length || s[i + 1] != '{') throw Error(file, line, "'$' must start a substitution ${...}.");
                int close = s.IndexOf('}', i + 2);
                int nl = s.IndexOf('\n', i + 2);
                if (close < 0 || (nl >= 0 && nl < close)) throw Error(file, line, "a substitution ${...} is not closed.");
                tokens.Add(new(Kind.Substitution, s[(i + 2)..close], line));
                i = close + 1;
                continue;
            }
            if (Forbidden.Contains(c)) throw Error(file, line, $"unexpected character '{c}'.");
            int k = i;
            while (k < s.Length && !Forbidden.Contains(s[k]) && s[k] != '\n' && !(s[k] == '/' && k + 1 < s.Length && s[k + 1] == '/'))
            {
                // Whitespace inside an unquoted run is kept only when more text follows on the line (HOCON joins them).
                if (char.IsWhiteSpace(s[k]))
                {
                    int m = k;
                    while (m < s.Length && char.IsWhiteSpace(s[m]) && s[m] != '\n') m++;
                    if (m >= s.Length || Forbidden.Contains(s[m]) || s[m] == '\n' || (s[m] == '/' && m + 1 < s.Length && s[m + 1] == '/')) break;
                    k = m;
                    continue;
                }
                k++;
            }
            tokens.Add(new(Kind.Text, s[i..k], line));
            i = k;
        }
        tokens.Add(new(Kind.End, "", line));
        return tokens;
    }
}

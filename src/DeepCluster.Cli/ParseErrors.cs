using System.CommandLine;
using System.CommandLine.Parsing;

namespace DeepCluster.Cli;

/// <summary>System.CommandLine's parse errors as one line that names the flag and says where the usage is.</summary>
public static class ParseErrors
{
    public static string Describe(ParseResult parsed)
    {
        var errors = parsed.Errors.Select(e => Describe(e).TrimEnd('.')).Distinct().ToList();
        var command = string.Join(" ", Path(parsed.CommandResult));
        return $"{string.Join("; ", errors)} (see '{command} --help')";
    }

    static readonly System.Text.RegularExpressions.Regex WrongType =
        new("^Cannot parse argument '(?<value>.*)' for option '(?<flag>[^']*)' as expected type '(?<type>[^']*)'");

    static string Describe(ParseError error)
    {
        if (WrongType.Match(error.Message) is { Success: true } m)
            return $"{m.Groups["flag"].Value} {m.Groups["value"].Value}: expected {TypeName(m.Groups["type"].Value)}";
        // "Argument 'x' not recognized. Must be one of:\n\t'a'\n\t'b'" → one line.
        var lines = error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var text = lines.Length == 1 ? lines[0] : lines[0] + " " + string.Join(", ", lines.Skip(1));
        var flag = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        return flag is null || text.Contains(flag, StringComparison.Ordinal) ? text : $"{flag}: {text}";
    }

    static string TypeName(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" => "a whole number",
        "System.Double" or "System.Single" => "a number",
        "System.Boolean" => "true or false",
        _ => type,
    };

    static IEnumerable<string> Path(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Push(c.Command is RootCommand ? "deepcluster" : c.Command.Name);
        return names;
    }
}

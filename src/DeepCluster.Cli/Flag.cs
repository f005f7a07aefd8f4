using System.CommandLine;
using System.Globalization;

namespace DeepCluster.Cli;

/// <summary>
/// An option whose default is stated once: in its help text, as main.py's argparse help does ("(default: x)"), and
/// applied when the flag is absent. The option itself carries no System.CommandLine default, which the help would
/// print a second time ("[default: x]").
/// </summary>
public sealed class Flag<T>(string name, string help, T fallback, params string[] aliases) where T : notnull
{
    public Option<T> Option { get; } = new(name, aliases) { Description = $"{help} (default: {Show(fallback)})" };

    public T Fallback => fallback;

    /// <summary>The value given on the command line, or the default.</summary>
    public T Get(ParseResult parsed) => parsed.GetResult(Option) is null ? fallback : parsed.GetValue(Option)!;

    static string Show(T value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
}

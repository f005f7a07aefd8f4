namespace DeepCluster.Core.Tests.Support;

/// <summary>What every command does with bad input: exit code 2 and one line on stderr, "deepcluster: …", that names the
/// flag, file or value; no stack trace and no usage text.</summary>
public static class CliErrors
{
    /// <returns>The one line, for further checks.</returns>
    public static string AssertOneLine(int code, string output, string err, string expected)
    {
        Assert.True(code == 2, $"exit {code}\n{output}{err}");
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("deepcluster: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", output + err);
        Assert.DoesNotContain("Usage:", output + err);
        return line;
    }
}

using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>The shipped configuration is the fallback of a user's, and every key it ships is read by something.</summary>
public class HostConfigTests
{
    [Fact]
    public void EveryShippedKeyIsRead()
    {
        // deepcluster.loader.prefetch-batches and pull-window were shipped and read by nothing.
        Assert.Equal(DeepClusterSettings.Keys.Concat(JournalSettings.Keys).Concat(DeepCluster.Actors.Cluster.HostSettingsLoader.Keys).Append("deepcluster.compute-dispatcher").Order(),
                     HostConfig.ShippedKeys().Order());
        Assert.Equal(DeepClusterSettings.Default, HostConfig.Load(null).Settings);
        Assert.Equal(JournalSettings.Default, JournalSettings.From(HostConfig.Load(null).Hocon));
    }

    [Fact]
    public void AUserFileOverridesOnlyWhatItSets()
    {
        using var dir = new TempDir();
        var conf = dir.File("user.conf");
        File.WriteAllText(conf, "// mine\ndeepcluster {\n  loader.pull-window = 5\n  data { max-image-pixels = 1000 }\n}\nakka.loglevel = ERROR\n");
        var (hocon, settings) = HostConfig.Load(conf);
        Assert.Equal(new DeepClusterSettings(3, 5, 1000), settings);
        Assert.Equal("PinnedDispatcher", hocon.GetString("deepcluster.compute-dispatcher.type"));
        Assert.Equal("ERROR", hocon.GetString("akka.loglevel"));
        Assert.Equal("off", hocon.GetString("akka.log-dead-letters"));
    }

    [Theory]
    [InlineData("a = \"unterminated\n", "x.conf:1: a string is not closed")]
    [InlineData("a {\n  b = 1\n}\n}\n", "x.conf:4: '}' without a matching '{'")]
    [InlineData("a b c\n", "x.conf:1: key 'a b c' has no value")]
    [InlineData("include \"other.conf\"\n", "x.conf:1: 'include' is not supported")]
    [InlineData("a = ${b\n", "x.conf:1: a substitution ${...} is not closed")]
    public void SyntaxErrorsNameTheLine(string text, string expected)
    {
        using var dir = new TempDir();
        var conf = dir.File("x.conf");
        File.WriteAllText(conf, text);
        var e = Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ValidHoconPasses()
    {
        HoconSyntax.Check("""
            # comment
            a.b-c = 1, d = "x" // trailing
            e { f = [1, 2, "three", { g = 4 }]
                h : 5s
                i += 6 }
            j = ${a.b-c} more words
            k = ${?NOPE}
            l = \"\"\"multi
            line\"\"\"
            """.Replace("\\\"", "\""), "test.conf");
    }
}

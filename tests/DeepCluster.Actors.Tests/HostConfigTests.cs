using DeepCluster.Actors.DataLoading;
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

    [Fact]
    public void JpegDctScalingIsOnOrOff()
    {
        using var dir = new TempDir();
        var conf = dir.File("user.conf");
        File.WriteAllText(conf, "deepcluster.data.jpeg-dct-scaling = on\n");
        Assert.True(HostConfig.Load(conf).Settings.JpegDctScaling);
        Assert.False(HostConfig.Load(null).Settings.JpegDctScaling);
        File.WriteAllText(conf, "deepcluster.data.jpeg-dct-scaling = sometimes\n");
        Assert.Equal($"{conf}: deepcluster.data.jpeg-dct-scaling = sometimes: expected on or off.",
                     Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf)).Message);
    }

    [Theory]
    [InlineData("on", RemoteLoaders.On)]
    [InlineData("off", RemoteLoaders.Off)]
    [InlineData("auto", RemoteLoaders.Auto)]
    public void RemoteLoadersIsAutoOnOrOff(string value, RemoteLoaders expected)
    {
        using var dir = new TempDir();
        var conf = dir.File("x.conf");
        File.WriteAllText(conf, $"deepcluster.training.remote-loaders = {value}\n");
        Assert.Equal(expected, HostConfig.Load(conf).Settings.RemoteLoadersMode);
        File.WriteAllText(conf, "deepcluster.training.remote-loaders = sometimes\n");
        Assert.Equal($"{conf}: deepcluster.training.remote-loaders = sometimes: expected one of auto, on, off.",
                     Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf)).Message);
    }

    [Theory]
    [InlineData("a = \"unterminated\n", "x.conf:1: a string is not closed")]
    [InlineData("a {\n  b = 1\n}\n}\n", "x.conf:4: '}' without a matching '{'")]
    [InlineData("a b c\n", "x.conf:1: key 'a b c' has no value")]
    [InlineData("include file(\"other.conf\")\n", "x.conf:1: include takes a file name in quotes")]
    [InlineData("include \"other.conf\" x\n", "x.conf:1: unexpected 'x' after include \"other.conf\"")]
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
    public void AnIncludedFileIsReadFromTheIncludingFilesFolderAndWhatFollowsOverridesIt()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllText(dir.File("sub/journal.conf"), "deepcluster.journal { provider = postgresql, connection-string = \"Host=a;Database=b\" }\n" +
                                                        "deepcluster.loader.pull-window = 4\n");
        var conf = dir.File("x.conf");
        File.WriteAllText(conf, "include \"sub/journal.conf\"\ndeepcluster.loader.pull-window = 6\n");
        var (hocon, settings) = HostConfig.Load(conf);
        Assert.Equal(JournalProvider.PostgreSql, JournalSettings.From(hocon).Provider);
        Assert.Equal(6, settings.PullWindow);

        // The included file is checked like the including one.
        File.WriteAllText(dir.File("sub/journal.conf"), "deepcluster.journal.colour = red\n");
        Assert.Contains("unknown key deepcluster.journal.colour", Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf)).Message);
        File.WriteAllText(dir.File("sub/journal.conf"), "a {\n");
        Assert.StartsWith(dir.File("sub/journal.conf") + ":2: '{' opened at line 1 is never closed",
                          Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf)).Message);
        File.WriteAllText(dir.File("sub/journal.conf"), "include \"../x.conf\"\n");
        Assert.Contains("includes itself (x.conf -> journal.conf -> x.conf)", Assert.Throws<InvalidDataException>(() => HostConfig.Load(conf)).Message);
        File.Delete(dir.File("sub/journal.conf"));
        Assert.Equal($"{conf}: include \"sub/journal.conf\": no such file ({dir.File("sub/journal.conf")}).",
                     Assert.Throws<FileNotFoundException>(() => HostConfig.Load(conf)).Message);
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

using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// <c>deepcluster.host</c> and the flags of <c>deepcluster host</c>: a bad value, settings that contradict each other
/// and an insecure listener are each one line naming the file (or flag), the key and the reason.
/// </summary>
public class HostSettingsTests : IDisposable
{
    const string Postgres = "deepcluster.journal { provider = postgresql, connection-string = \"Host=127.0.0.1;Database=dc;Username=dc\" }\n";
    const string Seed = "akka.tcp://deepcluster@127.0.0.1:4053";
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    string Conf => dir.File("node.conf");

    HostSettings Load(string text, HostOverrides? flags = null, string? journal = null)
    {
        File.WriteAllText(Conf, text);
        var (hocon, _) = HostConfig.Load(Conf, journal);
        return HostSettingsLoader.From(hocon, Conf, dir.Path, flags);
    }

    InvalidDataException Error(string text, HostOverrides? flags = null, string? journal = null)
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(text, flags, journal));
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    /// <summary>The error names the configuration file, then the key.</summary>
    InvalidDataException KeyError(string text, string key, HostOverrides? flags = null)
    {
        var e = Error(text, flags);
        Assert.StartsWith($"{Conf}: {key}", e.Message);
        return e;
    }

    string Certificate(string name = "node.p12", string password = "secret", bool withKey = true)
    {
        TestCertificate.Write(dir.File(name), password, withKey: withKey);
        return name;
    }

    [Fact]
    public void TheShippedDefaultsAreOneNodeOnLoopback()
    {
        var s = Load("");
        Assert.Equal(HostRoles.All, s.Roles);
        Assert.Equal(("127.0.0.1", 4053, "127.0.0.1", 8484), (s.Hostname, s.Port, s.Api.Bind, s.Api.Port));
        Assert.Empty(s.SeedNodes);
        Assert.Null(s.Tls);
        Assert.Equal(128_000, s.MaximumFrameSize);
        Assert.Equal(TimeSpan.FromSeconds(20), s.StableAfter);
        Assert.Equal(Path.Combine(dir.Path, "experiments"), s.ExperimentsRoot);
    }

    [Fact]
    public void FlagsOverrideTheFile()
    {
        var s = Load(Postgres + "deepcluster.host { roles = [coordinator], port = 5000 }\n",
                     new HostOverrides(Port: 0, SeedNodes: [Seed], Roles: ["worker"], Experiments: dir.File("exp"), ApiPort: 9000));
        Assert.Equal(["worker"], s.Roles);
        Assert.Equal((0, 9000), (s.Port, s.Api.Port));
        Assert.Equal([Seed], s.SeedNodes);
        Assert.Equal(dir.File("exp"), s.ExperimentsRoot);
    }

    [Theory]
    [InlineData("roles = [coordinator, boss]", "roles: unknown role boss; expected some of coordinator, worker, api")]
    [InlineData("roles = []", "roles is empty: give at least one of coordinator, worker, api")]
    [InlineData("port = 70000", "port = 70000: expected a port from 0 (any free port) to 65535")]
    [InlineData("port = eleven", "port = eleven: expected a port from 0 (any free port) to 65535")]
    [InlineData("api.port = -3", "api.port = -3: expected a port")]
    [InlineData("hostname = \"0.0.0.0\"", "hostname = 0.0.0.0: not an address other nodes can reach")]
    [InlineData("api.bind = \"my-laptop\"", "api.bind = my-laptop: not an IP address")]
    [InlineData("maximum-frame-size = 100b", "maximum-frame-size = 100b: expected a size from 32000b to 16MiB")]
    [InlineData("maximum-frame-size = 1GiB", "maximum-frame-size = 1GiB: expected a size from 32000b to 16MiB")]
    [InlineData("stable-after = 0s", "stable-after = 0s: expected a duration from 1s to 10min")]
    [InlineData("stable-after = soon", "stable-after = soon: expected a duration")]
    [InlineData("allow-insecure = maybe", "allow-insecure = maybe: expected on or off")]
    [InlineData("seed-nodes = [\"tcp://127.0.0.1:4053\"]", "seed-nodes: tcp://127.0.0.1:4053 is not a seed node address; expected akka.tcp://deepcluster@HOST:PORT")]
    [InlineData("seed-nodes = [\"akka.tcp://other@127.0.0.1:4053\"]", "seed-nodes: akka.tcp://other@127.0.0.1:4053: the actor system of every node is named deepcluster")]
    [InlineData("seed-nodes = [\"akka.tcp://deepcluster@127.0.0.1:99999\"]", "seed-nodes: akka.tcp://deepcluster@127.0.0.1:99999: the port must be from 1 to 65535")]
    [InlineData("seed-nodes = \"akka.tcp://deepcluster@127.0.0.1:4053\"", "seed-nodes must be a list")]
    [InlineData("tls.password = \"x\"", "tls.password is set but deepcluster.host.tls.certificate is empty (remoting TLS is off)")]
    [InlineData("api.certificate-password = \"x\"", "api.certificate-password is set but deepcluster.host.api.certificate is empty")]
    public void ABadValueNamesTheKeyAndTheReason(string setting, string expected)
    {
        var e = KeyError(Postgres + $"deepcluster.host {{ {setting} }}\n", "deepcluster.host.");
        Assert.Contains($"deepcluster.host.{expected}", e.Message);
    }

    [Fact]
    public void ABadFlagNamesTheFlag()
    {
        Assert.Equal("--roles: unknown role boss; expected some of coordinator, worker, api.",
                     Error("", new HostOverrides(Roles: ["boss"])).Message);
        Assert.Equal("--port = 65536: expected a port from 0 (any free port) to 65535.", Error("", new HostOverrides(Port: 65536)).Message);
        Assert.Equal("--api-port = -1: expected a port from 0 (any free port) to 65535.", Error("", new HostOverrides(ApiPort: -1)).Message);
        Assert.StartsWith("--seed-nodes: 127.0.0.1:4053 is not a seed node address",
                          Error(Postgres, new HostOverrides(SeedNodes: ["127.0.0.1:4053"])).Message);
    }

    [Fact]
    public void ANodeWithoutCoordinatorRoleNeedsSeedNodes()
    {
        var e = KeyError("deepcluster.host.roles = [worker]\n", "deepcluster.host.seed-nodes");
        Assert.Contains("is empty and the node has no coordinator role", e.Message);
        Assert.Contains("nobody to join", e.Message);
        Assert.StartsWith("--seed-nodes is empty", Error("", new HostOverrides(Roles: ["worker"], SeedNodes: [])).Message);
    }

    [Fact]
    public void SeveralNodesNeedTheSharedJournal()
    {
        var e = KeyError($"deepcluster.host.seed-nodes = [\"{Seed}\"]\n", "deepcluster.host.seed-nodes");
        Assert.Contains($"several nodes, but {Conf}: deepcluster.journal.provider = sqlite", e.Message);
        Assert.Contains("set deepcluster.journal.provider = postgresql", e.Message);
        // The journal flag set it: the flag is named.
        e = Error(Postgres + $"deepcluster.host.seed-nodes = [\"{Seed}\"]\n", new HostOverrides(Journal: "sqlite"), journal: "sqlite");
        Assert.Contains("but --journal = sqlite", e.Message);
        Assert.Equal([Seed], Load(Postgres + $"deepcluster.host.seed-nodes = [\"{Seed}\"]\n").SeedNodes);
    }

    [Fact]
    public void TheApiCannotShareTheRemotingPort()
    {
        var e = KeyError("deepcluster.host { port = 5000, api.port = 5000 }\n", "deepcluster.host.api.port");
        Assert.Contains("is also the remoting port", e.Message);
    }

    [Fact]
    public void RemotingOffLoopbackNeedsTlsOrAllowInsecure()
    {
        var e = KeyError("deepcluster.host.hostname = \"10.1.2.3\"\n", "deepcluster.host.hostname");
        Assert.Contains("10.1.2.3 is not a loopback address and remoting has no TLS", e.Message);
        Assert.Contains("set deepcluster.host.tls.certificate", e.Message);
        Assert.Contains("or deepcluster.host.allow-insecure = on", e.Message);

        Assert.True(Load("deepcluster.host { hostname = \"10.1.2.3\", allow-insecure = on }\n").AllowInsecure);
        var cert = Certificate();
        Assert.NotNull(Load($"deepcluster.host {{ hostname = \"10.1.2.3\", tls {{ certificate = \"{cert}\", password = \"secret\" }} }}\n").Tls);
        Assert.Equal("localhost", Load("deepcluster.host.hostname = localhost\n").Hostname);
    }

    [Fact]
    public void TheApiOffLoopbackNeedsHttpsOrAllowInsecure()
    {
        var e = KeyError("deepcluster.host.api.bind = \"0.0.0.0\"\n", "deepcluster.host.api.bind");
        Assert.Contains("0.0.0.0 is not a loopback address and the API has no HTTPS", e.Message);
        Assert.Contains("set deepcluster.host.api.certificate", e.Message);
        Assert.Contains("or deepcluster.host.allow-insecure = on", e.Message);

        var cert = Certificate("api.p12", "pw");
        var s = Load($"deepcluster.host.api {{ bind = \"0.0.0.0\", certificate = \"{cert}\", certificate-password = pw }}\n");
        Assert.Equal(("https://127.0.0.1:8484", dir.File("api.p12")), (s.Api.Url, s.Api.Certificate));
        // A node without the api role serves no API: its api settings are not its concern.
        Load(Postgres + $"deepcluster.host {{ roles = [worker], seed-nodes = [\"{Seed}\"], api.bind = \"0.0.0.0\" }}\n");
    }

    [Fact]
    public void ARemotingCertificateIsLoadedWithItsPassword()
    {
        var e = KeyError("deepcluster.host.tls.certificate = missing.p12\n", "deepcluster.host.tls.certificate");
        Assert.Contains($"deepcluster.host.tls.certificate = missing.p12: no such file ({dir.File("missing.p12")})", e.Message);

        var cert = Certificate();
        e = KeyError($"deepcluster.host.tls {{ certificate = {cert}, password = wrong }}\n", "deepcluster.host.tls.certificate");
        Assert.Contains("cannot be opened as a PKCS#12 file with the password given", e.Message);

        e = KeyError($"deepcluster.host.tls {{ certificate = {cert} }}\n", "deepcluster.host.tls.certificate");
        Assert.Contains("with no password", e.Message);

        var publicOnly = Certificate("public.p12", withKey: false);
        e = KeyError($"deepcluster.host.tls {{ certificate = {publicOnly}, password = secret }}\n", "deepcluster.host.tls.certificate");
        Assert.Contains("holds no private key", e.Message);

        File.WriteAllText(dir.File("junk.p12"), "not a certificate");
        e = KeyError("deepcluster.host.tls { certificate = junk.p12, password = secret }\n", "deepcluster.host.tls.certificate");
        Assert.Contains("cannot be opened as a PKCS#12 file", e.Message);

        e = KeyError($"deepcluster.host.tls {{ certificate = {cert}, password = secret, trusted-thumbprints = [\"xyz\"] }}\n",
                     "deepcluster.host.tls.trusted-thumbprints");
        Assert.Contains("xyz is not a certificate thumbprint", e.Message);
    }

    [Fact]
    public void AnApiCertificateIsLoadedWithItsPassword()
    {
        var e = KeyError("deepcluster.host.api.certificate = missing.p12\n", "deepcluster.host.api.certificate");
        Assert.Contains("no such file", e.Message);
        var cert = Certificate("api.p12", "pw");
        e = KeyError($"deepcluster.host.api {{ certificate = {cert}, certificate-password = wrong }}\n", "deepcluster.host.api.certificate");
        Assert.Contains("cannot be opened as a PKCS#12 file with the password given", e.Message);
    }

    [Fact]
    public void WithTlsSeedNodesSpeakTheTlsProtocol()
    {
        var cert = Certificate();
        var s = Load(Postgres + $"deepcluster.host {{ seed-nodes = [\"{Seed}\"], tls {{ certificate = {cert}, password = secret }} }}\n");
        Assert.Equal(["akka.ssl.tcp://deepcluster@127.0.0.1:4053"], s.SeedNodes);
        Assert.Equal("akka.ssl.tcp", s.Protocol);
    }

    [Fact]
    public void TheAkkaHoconSaysClusterRemotingAndSplitBrainResolver()
    {
        var s = Load(Postgres + $"deepcluster.host {{ roles = [worker], port = 4999, seed-nodes = [\"{Seed}\"], stable-after = 7s }}\n");
        var hocon = s.AkkaHocon();
        Assert.Equal("cluster", hocon.GetString("akka.actor.provider"));
        Assert.Equal(("127.0.0.1", 4999), (hocon.GetString("akka.remote.dot-netty.tcp.hostname"), hocon.GetInt("akka.remote.dot-netty.tcp.port")));
        Assert.Equal(128_000, hocon.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.False(hocon.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal(["worker"], hocon.GetStringList("akka.cluster.roles"));
        Assert.Equal([Seed], hocon.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", hocon.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", hocon.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(7), hocon.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Null(HostAkkaConfig.TlsSetup(s));
    }

    [Fact]
    public void AFrameSizeAboveTheSocketBuffersRaisesThem()
    {
        var hocon = Load("deepcluster.host.maximum-frame-size = 1MiB\n").AkkaHocon();
        Assert.Equal(1 << 20, hocon.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal(1 << 20, hocon.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size"));
        Assert.Equal(1 << 20, hocon.GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size"));
    }

    /// <summary>The files shipped in config/ (copied next to the application) load, and say what they promise.</summary>
    [Theory]
    [InlineData("host.conf", "coordinator,worker,api", false, 0)]
    [InlineData("coordinator.conf", "coordinator,api", true, 1)]
    [InlineData("worker.conf", "worker", true, 1)]
    [InlineData("persistence-postgres.conf", "coordinator,worker,api", true, 0)]
    public void TheShippedFilesAreValid(string name, string roles, bool postgres, int seeds)
    {
        var file = Path.Combine(AppContext.BaseDirectory, "config", name);
        var (hocon, _) = HostConfig.Load(file);
        var s = HostSettingsLoader.From(hocon, file, Path.GetDirectoryName(file)!);
        Assert.Equal(roles, string.Join(",", s.Roles));
        Assert.Equal(postgres, JournalSettings.From(hocon).Provider == JournalProvider.PostgreSql);
        Assert.Equal(seeds, s.SeedNodes.Count);
        Assert.True(HostSettingsLoader.IsLoopback(s.Hostname) && HostSettingsLoader.IsLoopback(s.Api.Bind));
        Assert.Equal(HostSettings.DefaultMaximumFrameSize, s.MaximumFrameSize);
    }

    /// <summary>What deploy/local-cluster.sh writes: a shipped cluster file included by its absolute path, the
    /// journal and this cluster's folders set after it, flags for the ports and the seed node.</summary>
    [Fact]
    public void ANodeFileCanIncludeAShippedOneAndOverrideIt()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "config", "coordinator.conf");
        File.WriteAllText(Conf, $"include \"{shipped}\"\n" +
                                "deepcluster.journal { provider = postgresql, connection-string = \"Host=127.0.0.1;Port=5433;Database=d;Username=u;Password=p\" }\n" +
                                "deepcluster.host { experiments = \"experiments\", api.token-file = \"api.token\" }\n");
        var (hocon, _) = HostConfig.Load(Conf);
        var s = HostSettingsLoader.From(hocon, Conf, dir.Path, new HostOverrides(Port: 24001, SeedNodes: ["akka.tcp://deepcluster@127.0.0.1:24001"], ApiPort: 24002));
        Assert.Equal("Host=127.0.0.1;Port=5433;Database=d;Username=u;Password=p", JournalSettings.From(hocon).ConnectionString);
        Assert.Equal(["coordinator", "api"], s.Roles);
        Assert.Equal((dir.File("experiments"), dir.File("api.token"), "http://127.0.0.1:24002"), (s.ExperimentsRoot, s.Api.TokenFile, s.Api.Url));
        Assert.Equal(["akka.tcp://deepcluster@127.0.0.1:24001"], s.SeedNodes);
    }
}

using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using DeepCluster.Actors.Cluster;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Akka.Remote TLS as <see cref="HostAkkaConfig"/> sets it up: two nodes sharing a self-signed certificate form a
/// cluster over mutual TLS on 127.0.0.1; a node with another certificate is refused at the handshake and never
/// becomes a member, and the cluster it knocked at carries on.
/// </summary>
public class RemoteTlsTests : IDisposable
{
    static readonly TimeSpan UpWithin = TimeSpan.FromSeconds(30);
    readonly TempDir dir = new();
    readonly List<ActorSystem> systems = [];

    public void Dispose()
    {
        Task.WhenAll(systems.Select(s => s.Terminate())).Wait(TimeSpan.FromSeconds(20));
        dir.Dispose();
    }

    HostSettings Node(string certificate, IReadOnlyList<string> roles, IReadOnlyList<string> seeds, IReadOnlyList<string>? trusted = null) => new()
    {
        Roles = roles,
        Hostname = "127.0.0.1",
        Port = 0,
        SeedNodes = seeds,
        ExperimentsRoot = dir.Path,
        Api = new ApiSettings("127.0.0.1", 0, dir.File("api.token"), null, null),
        Tls = new RemoteTlsSettings(dir.File(certificate), "secret") { TrustedThumbprints = trusted ?? [] },
        StableAfter = TimeSpan.FromSeconds(5),
    };

    /// <summary>Starts a node the way the host does: its HOCON first, the TLS setup, a self-join without seed nodes.</summary>
    ActorSystem Start(HostSettings node)
    {
        var hocon = node.AkkaHocon().WithFallback(ConfigurationFactory.ParseString(
            "akka.loglevel = ERROR\nakka.stdout-loglevel = OFF\nakka.coordinated-shutdown.exit-clr = off\n" +
            "akka.coordinated-shutdown.run-by-clr-shutdown-hook = off\nakka.cluster.log-info = off"));
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(hocon)).And(HostAkkaConfig.TlsSetup(node)!);
        var system = ActorSystem.Create(HostSettings.SystemName, setup);
        systems.Add(system);
        if (node.SeedNodes.Count == 0) HostAkkaConfig.JoinSelf(system);
        return system;
    }

    static int UpMembers(ActorSystem system) => Akka.Cluster.Cluster.Get(system).State.Members.Count(m => m.Status == MemberStatus.Up);

    static async Task<bool> Eventually(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(200);
        }
        return condition();
    }

    [Fact]
    public async Task NodesSharingTheCertificateFormAClusterAndAnotherCertificateIsRefused()
    {
        TestCertificate.Write(dir.File("cluster.p12"), "secret", "deepcluster-cluster");
        TestCertificate.Write(dir.File("intruder.p12"), "secret", "deepcluster-intruder");

        var first = Start(Node("cluster.p12", [HostRoles.Coordinator, HostRoles.Api], []));
        var firstAddress = Akka.Cluster.Cluster.Get(first).SelfAddress;
        Assert.Equal("akka.ssl.tcp", firstAddress.Protocol);
        Assert.True(await Eventually(() => UpMembers(first) == 1, UpWithin), "the first node did not join itself");

        var second = Start(Node("cluster.p12", [HostRoles.Worker], [firstAddress.ToString()]));
        Assert.True(await Eventually(() => UpMembers(first) == 2 && UpMembers(second) == 2, UpWithin),
                    $"the two TLS nodes did not form a cluster within {UpWithin.TotalSeconds:0}s");
        Assert.Equal(new[] { HostRoles.Worker }, Akka.Cluster.Cluster.Get(second).SelfRoles);

        var intruder = Start(Node("intruder.p12", [HostRoles.Worker], [firstAddress.ToString()]));
        var intruderAddress = Akka.Cluster.Cluster.Get(intruder).SelfAddress;
        Assert.False(await Eventually(() => Akka.Cluster.Cluster.Get(first).State.Members.Any(m => m.Address == intruderAddress)
                                            || UpMembers(intruder) > 0, TimeSpan.FromSeconds(8)),
                     "a node with another certificate got into the cluster");
        Assert.Equal(2, UpMembers(first));
        Assert.False(first.WhenTerminated.IsCompleted, "the refused handshake stopped the cluster's node");
    }

    [Fact]
    public async Task NodesWithTheirOwnCertificatesJoinWhenEachTrustsTheOthersThumbprint()
    {
        var one = TestCertificate.Write(dir.File("one.p12"), "secret", "deepcluster-one");
        var two = TestCertificate.Write(dir.File("two.p12"), "secret", "deepcluster-two");
        var first = Start(Node("one.p12", [HostRoles.Coordinator], [], trusted: [two]));
        var firstAddress = Akka.Cluster.Cluster.Get(first).SelfAddress.ToString();
        var second = Start(Node("two.p12", [HostRoles.Worker], [firstAddress], trusted: [one]));
        Assert.True(await Eventually(() => UpMembers(first) == 2 && UpMembers(second) == 2, UpWithin),
                    $"two nodes trusting each other's certificate did not form a cluster within {UpWithin.TotalSeconds:0}s");
    }
}

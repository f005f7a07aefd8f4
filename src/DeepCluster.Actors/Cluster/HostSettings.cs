using Akka.Configuration;

namespace DeepCluster.Actors.Cluster;

/// <summary>The roles a host node can hold (<c>deepcluster.host.roles</c>).</summary>
public static class HostRoles
{
    /// <summary>Holds experiments (the shard region of experiment entities).</summary>
    public const string Coordinator = "coordinator";
    /// <summary>Loads data, extracts features, computes clustering partial steps, trains.</summary>
    public const string Worker = "worker";
    /// <summary>Serves the HTTP+JSON control API.</summary>
    public const string Api = "api";

    public static IReadOnlyList<string> All { get; } = [Coordinator, Worker, Api];
}

/// <summary>
/// The control endpoint of a host (<c>deepcluster.host.api</c>): where it listens, the file holding its bearer token,
/// and the PKCS#12 certificate that turns on HTTPS (empty: plain HTTP).
/// </summary>
public sealed record ApiSettings(string Bind, int Port, string TokenFile, string? Certificate, string? CertificatePassword)
{
    /// <summary>The URL clients reach it at.</summary>
    public string Url => $"{(Certificate is null ? "http" : "https")}://{(Bind is "0.0.0.0" or "::" or "*" ? "127.0.0.1" : Bind)}:{Port}";
}

/// <summary>
/// Akka.Remote TLS (<c>deepcluster.host.tls</c>): a PKCS#12 certificate, mutual authentication. A peer is let in when
/// it presents this node's own certificate (one certificate shared by the cluster) or one whose SHA-1 thumbprint is in
/// <see cref="TrustedThumbprints"/>; anything else fails the handshake.
/// </summary>
public sealed record RemoteTlsSettings(string Certificate, string? Password)
{
    /// <summary>Thumbprints (40 hex digits, upper case) of the other certificates accepted from peers.</summary>
    public IReadOnlyList<string> TrustedThumbprints { get; init; } = [];
}

/// <summary>
/// A host node (<c>deepcluster host</c>): its roles, the address it is reached at by the other nodes, the seed
/// nodes it joins, the folder it keeps experiments in, its control endpoint and remoting TLS.
/// </summary>
public sealed record HostSettings
{
    public required IReadOnlyList<string> Roles { get; init; }
    public string Hostname { get; init; } = "127.0.0.1";
    /// <summary>Akka.Remote port; 0: any free port.</summary>
    public int Port { get; init; } = 4053;
    /// <summary>akka.tcp://deepcluster@host:port addresses; empty: this node founds the cluster on its own.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    /// <summary>The experiments folder (shared by every node): experiment ID lives in <c>ROOT/ID</c>.</summary>
    public required string ExperimentsRoot { get; init; }
    public required ApiSettings Api { get; init; }
    public RemoteTlsSettings? Tls { get; init; }
    /// <summary>Allows listening on a non-loopback address without TLS and a token.</summary>
    public bool AllowInsecure { get; init; }
    /// <summary>
    /// The largest remoting message, in bytes (<c>akka.remote.dot-netty.tcp.maximum-frame-size</c>). Large data
    /// (features, models, centroids) never travels in messages: it goes through files on the shared folder.
    /// </summary>
    public long MaximumFrameSize { get; init; } = DefaultMaximumFrameSize;
    /// <summary>How long membership must be stable before the Split Brain Resolver (keep-majority) downs unreachable nodes.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(20);

    public bool Has(string role) => Roles.Contains(role);

    /// <summary>The protocol of this node's address and of its seed nodes: <c>akka.ssl.tcp</c> with TLS, else <c>akka.tcp</c>.</summary>
    public string Protocol => Tls is null ? "akka.tcp" : "akka.ssl.tcp";

    /// <summary>
    /// The Akka HOCON of this node (cluster provider, remoting, TLS switches, roles, seed nodes, Split Brain
    /// Resolver), to be put in front of the rest of the configuration: see <see cref="HostAkkaConfig.For"/>.
    /// </summary>
    public Config AkkaHocon() => HostAkkaConfig.For(this);

    /// <summary>Akka.Remote's default <c>maximum-frame-size</c>, kept: 128 000 bytes.</summary>
    public const long DefaultMaximumFrameSize = 128_000;

    /// <summary>The actor system's name on every node (seed-node addresses use it).</summary>
    public const string SystemName = "deepcluster";
}

/// <summary>Flags of <c>deepcluster host</c> that override its HOCON (null: the configuration's).</summary>
public sealed record HostOverrides(int? Port = null, IReadOnlyList<string>? SeedNodes = null, IReadOnlyList<string>? Roles = null,
                                   string? Journal = null, string? Experiments = null, int? ApiPort = null);

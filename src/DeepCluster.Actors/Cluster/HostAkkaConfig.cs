using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Transport.DotNetty;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// The Akka side of a host node's <see cref="HostSettings"/>: the HOCON that makes it a cluster member (provider,
/// remoting address and frame size, TLS switches, roles, seed nodes, Split Brain Resolver), the TLS setup that carries
/// its certificate and the peers it trusts, and the self-join of a node that founds the cluster.
/// <see cref="AddClusterNode"/> does all three for Akka.Hosting.
/// </summary>
public static class HostAkkaConfig
{
    /// <summary>Akka.Cluster's Split Brain Resolver (the downing provider of Akka.NET 1.5).</summary>
    public const string DowningProvider = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster";

    /// <summary>
    /// Registers the node with Akka.Hosting: <see cref="For"/> put in front of the configuration, the TLS setup when TLS
    /// is on, and the self-join when the node has no seed nodes. Do not also call <c>WithRemoting</c> or
    /// <c>WithClustering</c>: they would write the same keys.
    /// </summary>
    public static AkkaConfigurationBuilder AddClusterNode(this AkkaConfigurationBuilder builder, HostSettings settings)
    {
        builder.AddHocon(For(settings), HoconAddMode.Prepend);
        if (TlsSetup(settings) is { } tls) builder.AddSetup(tls);
        if (settings.SeedNodes.Count == 0) builder.AddStartup((system, _) => { JoinSelf(system); return Task.CompletedTask; });
        return builder;
    }

    /// <summary>
    /// The node's Akka HOCON, to be given precedence over every other configuration (<c>For(s).WithFallback(rest)</c>,
    /// or Akka.Hosting's <c>AddHocon(…, HoconAddMode.Prepend)</c>). With TLS it turns TLS on but names no certificate:
    /// <see cref="TlsSetup"/> must be added to the actor system's setup, or remoting refuses to start.
    /// </summary>
    public static Config For(HostSettings s)
    {
        // Akka.Remote's socket buffers should hold a whole frame.
        var buffer = Math.Max(256_000, s.MaximumFrameSize);
        var hocon = new StringBuilder();
        hocon.Append(CultureInfo.InvariantCulture, $$"""
            akka {
              actor.provider = cluster
              remote.dot-netty.tcp {
                hostname = {{Quote(s.Hostname)}}
                port = {{s.Port}}
                # large data goes through files on the shared folder: a large frame delays the heartbeats that share its connection
                maximum-frame-size = {{s.MaximumFrameSize}}b
                send-buffer-size = {{buffer}}b
                receive-buffer-size = {{buffer}}b
                enable-ssl = {{(s.Tls is null ? "off" : "on")}}
                ssl {
                  # the certificate comes with HostAkkaConfig.TlsSetup, which pins the peers' certificates
                  suppress-validation = off
                  require-mutual-authentication = on
                  validate-certificate-hostname = off
                }
              }
              cluster {
                roles = [{{string.Join(", ", s.Roles.Select(Quote))}}]
                seed-nodes = [{{string.Join(", ", s.SeedNodes.Select(Quote))}}]
                downing-provider-class = {{Quote(DowningProvider)}}
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{(long)s.StableAfter.TotalMilliseconds}}ms
                  keep-majority.role = ""
                }
              }
            }
            """);
        return ConfigurationFactory.ParseString(hocon.ToString());
    }

    /// <summary>
    /// Akka.Remote's TLS setup for a node with <see cref="HostSettings.Tls"/> (null without): its PKCS#12 certificate,
    /// mutual authentication, and a validator that accepts exactly the peers presenting this certificate or one listed
    /// in <see cref="RemoteTlsSettings.TrustedThumbprints"/> — a self-signed cluster certificate needs no CA, and a
    /// node with another certificate fails the handshake.
    /// </summary>
    public static DotNettySslSetup? TlsSetup(HostSettings s)
    {
        if (s.Tls is not { } tls) return null;
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.Certificate, tls.Password);
        var trusted = tls.TrustedThumbprints.Prepend(certificate.Thumbprint).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
                                    validateCertificateHostname: false, customValidator: CertificateValidation.PinnedCertificate(trusted));
    }

    /// <summary>The node founds the cluster on its own (no seed nodes): it joins itself and becomes Up alone.</summary>
    public static void JoinSelf(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Join(cluster.SelfAddress);
    }

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

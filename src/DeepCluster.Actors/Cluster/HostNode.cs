using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using DeepCluster.Actors.Control;
using DeepCluster.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// A running host node (<c>deepcluster host</c>): its actor system (Akka.Cluster member with the configured roles),
/// the shard region of experiments, and the <see cref="IExperimentControl"/> the control API serves. A node without
/// seed nodes founds a cluster of its own (it joins itself).
/// </summary>
public sealed class HostNode : IAsyncDisposable
{
    readonly IHost host;

    public ActorSystem System { get; }
    public HostSettings Settings { get; }
    public IExperimentControl Control { get; }
    /// <summary>This node's remoting address (akka.tcp://deepcluster@HOST:PORT), with the actual port when 0 was asked.</summary>
    public string Address { get; }

    HostNode(IHost host, ActorSystem system, HostSettings settings, IExperimentControl control)
    {
        this.host = host;
        System = system;
        Settings = settings;
        Control = control;
        Address = ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString();
    }

    /// <param name="hocon">The checked configuration (<see cref="HostConfig.Load"/>).</param>
    public static async Task<HostNode> StartAsync(HostSettings settings, Config hocon, PipelineProps? props = null, CancellationToken ct = default)
    {
        Directory.CreateDirectory(settings.ExperimentsRoot);
        var journal = JournalSettings.From(hocon);
        var host = new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            // Ctrl+C / SIGTERM reach the node through the caller's cancellation token only (see ExperimentHost.CallerLifetime).
            .ConfigureServices(s => s.AddSingleton<IHostLifetime, ExperimentHost.CallerLifetime>().AddAkka(HostSettings.SystemName, b => b.AddDeepClusterHost(settings, hocon, journal, props)))
            .Build();
        try
        {
            await host.StartAsync(ct);
            var system = host.Services.GetRequiredService<ActorSystem>();
            var region = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ExperimentRegion>(ct);
            return new HostNode(host, system, settings, new ShardExperimentControl(region, settings.ExperimentsRoot));
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Leaves the cluster and stops (Akka's coordinated shutdown): running experiments stop at their last durable point.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await host.StopAsync(CancellationToken.None); }
        finally { host.Dispose(); }
    }
}

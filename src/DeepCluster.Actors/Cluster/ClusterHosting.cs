using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;

namespace DeepCluster.Actors.Cluster;

/// <summary>The shard region of experiment entities, as registered in the <see cref="ActorRegistry"/>.</summary>
public sealed class ExperimentRegion;

/// <summary>
/// Registers a DeepCluster host node with Akka.Hosting: remoting and Akka.Cluster with the node's roles, the journal
/// shared by every experiment (SQLite <c>ROOT/host.db</c> on one machine, PostgreSQL for several), and the shard
/// region of <see cref="ExperimentEntity"/> (on coordinator nodes; a proxy elsewhere) with remember-entities, its own
/// state in tables of its own (<c>sharding_journal</c>, <c>sharding_snapshot</c>).
/// </summary>
public static class ClusterHosting
{
    public const string RegionName = "experiment";
    const int Shards = 100;

    /// <param name="hocon">The checked configuration (<see cref="HostConfig.Load"/>), with the cluster settings of <paramref name="host"/> in front.</param>
    public static AkkaConfigurationBuilder AddDeepClusterHost(this AkkaConfigurationBuilder builder, HostSettings host, Config hocon,
                                                              JournalSettings journal, PipelineProps? props = null)
    {
        builder.AddHocon(hocon, HoconAddMode.Prepend);
        builder.AddHocon(PipelineHosting.Fixed, HoconAddMode.Prepend);
        // Ctrl+C / SIGTERM stop the node through the caller (HostNode.DisposeAsync runs the coordinated shutdown);
        // Akka's own process-exit hook would run it a second time, concurrently, inside the signal.
        builder.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend);
        builder.AddClusterNode(host);
        var (connection, provider, mapping) = Journal(host, journal);
        builder.WithSqlPersistence(connectionString: connection, providerName: provider, autoInitialize: true);
        builder.AddHocon("akka.persistence.journal.sql.recovery-event-timeout = 10s", HoconAddMode.Prepend);
        builder.AddExperimentSerializer();
        builder.WithSqlPersistence(
            new SqlJournalOptions(isDefaultPlugin: false, identifier: "sharding")
            {
                ConnectionString = connection, ProviderName = provider, AutoInitialize = true,
                DatabaseOptions = new JournalDatabaseOptions(mapping) { JournalTable = new JournalTableOptions { TableName = "sharding_journal" } },
            },
            new SqlSnapshotOptions(isDefaultPlugin: false, identifier: "sharding")
            {
                ConnectionString = connection, ProviderName = provider, AutoInitialize = true,
                DatabaseOptions = new SnapshotDatabaseOptions(mapping) { SnapshotTable = new SnapshotTableOptions { TableName = "sharding_snapshot" } },
            }, null, null);

        var journalName = journal.Provider == JournalProvider.PostgreSql ? $"PostgreSQL journal {journal.Server}" : HostJournalPath(host);
        var extractor = HashCodeMessageExtractor.Create(Shards, m => m is IExperimentCommand c ? c.ExperimentId : null!, m => m);
        if (host.Has(HostRoles.Coordinator))
            builder.WithShardRegion<ExperimentRegion>(RegionName, id => ExperimentEntity.Props(id, host.ExperimentsRoot, journalName, props),
                extractor, new ShardOptions
                {
                    Role = HostRoles.Coordinator,
                    RememberEntities = true,
                    StateStoreMode = StateStoreMode.Persistence,
                    JournalPluginId = "akka.persistence.journal.sharding",
                    SnapshotPluginId = "akka.persistence.snapshot-store.sharding",
                    HandOffStopMessage = PoisonPill.Instance,
                });
        else
            builder.WithShardRegionProxy<ExperimentRegion>(RegionName, HostRoles.Coordinator, extractor);
        builder.AddHocon("akka.remote.log-remote-lifecycle-events = off", HoconAddMode.Prepend);   // a lost node: once, by the cluster
        builder.WithDistributedPubSub(role: null!);   // every node: experiments publish, worker nodes subscribe
        builder.WithActors((system, _) =>
        {
            if (host.Has(HostRoles.Worker)) system.ActorOf(NodeWorkers.Props(props ?? PipelineProps.Default), "workers");
            // Akka's own log lines (warnings) of this node go to ROOT/nodes/HOST_PORT.log (every node shares ROOT).
            var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
            system.ActorOf(LogFileActor.Props(NodeLogPath(host, address)), "log-file");
        });
        return builder;
    }

    /// <summary>The log of one node (Akka's warnings, cluster membership): <c>ROOT/nodes/HOST_PORT.log</c>.</summary>
    public static string NodeLogPath(HostSettings host, Address address)
    {
        var dir = Path.Combine(host.ExperimentsRoot, "nodes");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"{address.Host}_{address.Port}.log");
    }

    /// <summary>The host's SQLite journal: one file for every experiment of this (single) node.</summary>
    public static string HostJournalPath(HostSettings host) => Path.Combine(host.ExperimentsRoot, "host.db");

    static (string Connection, string Provider, DatabaseMapping Mapping) Journal(HostSettings host, JournalSettings journal) =>
        journal.Provider == JournalProvider.PostgreSql
            ? (journal.ConnectionString, journal.ProviderName, DatabaseMapping.PostgreSql)
            : ($"Data Source={HostJournalPath(host)}", journal.ProviderName, DatabaseMapping.Sqlite);
}

using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// Registers the DeepCluster pipeline with Akka.Hosting: HOCON, the SQL journal (SQLite or PostgreSQL, and the
/// serializer of its events), and the actors.
/// </summary>
public static class PipelineHosting
{
    /// <summary>The default HOCON shipped next to the application.</summary>
    public static string DefaultConfigPath => HostConfig.DefaultPath;

    /// <summary>The shipped configuration overridden by <paramref name="path"/> (if any), checked: see <see cref="HostConfig"/>.</summary>
    public static Config LoadConfig(string? path) => HostConfig.Load(path).Hocon;

    /// <summary>
    /// Set in code, whatever the configuration files say: top-level actors that throw are stopped and reported, and
    /// Akka's log goes to train.log (warnings also to the console), never a second copy of an error on stdout.
    /// </summary>
    internal static readonly Config Fixed = ConfigurationFactory.ParseString(
        $"akka.actor.guardian-supervisor-strategy = \"{TypeName<ReportingGuardianStrategy>()}\"\n" +
        $"akka.loggers = [\"{TypeName<AkkaLogRouter>()}\"]");

    static string TypeName<T>() => $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";

    /// <summary>
    /// Adds the configuration, the journal and the actors: <c>/user/pipeline</c> (<see cref="PipelineSupervisor"/>,
    /// parent of the experiment and the pipeline actors, made by <paramref name="props"/>) and the log writer.
    /// <paramref name="beforeActors"/> runs first, so that an observer it subscribes to the event stream cannot miss
    /// anything the experiment publishes (e.g. a journal that cannot be read).
    /// The journal is <c>deepcluster.journal</c>'s (SQLite in the folder, or PostgreSQL; tables made on first use);
    /// <paramref name="target"/> names the experiment's persistence id (null: the fixed id of folders made before ids).
    /// </summary>
    public static AkkaConfigurationBuilder AddDeepClusterPipeline(this AkkaConfigurationBuilder builder, ExperimentFolder folder, Config hocon,
                                                                  PipelineProps? props = null, Action<ActorSystem>? beforeActors = null,
                                                                  JournalTarget? target = null)
    {
        builder.AddHocon(hocon, HoconAddMode.Prepend);
        builder.AddHocon(Fixed, HoconAddMode.Prepend);
        builder.AddExperimentJournal(folder, JournalSettings.From(hocon));
        builder.WithActors((system, registry) =>
        {
            beforeActors?.Invoke(system);
            system.ActorOf(LogFileActor.Props(folder.LogPath), "log-file");
            var pipeline = system.ActorOf(PipelineSupervisor.Props(props ?? PipelineProps.Default,
                actors => ExperimentActor.Props(folder, actors, target)), "pipeline");
            registry.Register<PipelineSupervisor>(pipeline);
        });
        return builder;
    }

    /// <summary>
    /// The experiment's journal and snapshot store: Akka.Persistence.Sql on the SQLite file <c>experiment.db</c> of
    /// <paramref name="folder"/> (or the database <paramref name="journal"/> names), its events and snapshots written
    /// by <see cref="ExperimentSerializer"/>.
    /// </summary>
    public static AkkaConfigurationBuilder AddExperimentJournal(this AkkaConfigurationBuilder builder, ExperimentFolder folder,
                                                                JournalSettings? journal = null)
    {
        builder.WithSqlPersistence(connectionString: journal?.ConnectionStringFor(folder) ?? $"Data Source={folder.JournalPath}",
                                   providerName: journal?.ProviderName ?? LinqToDB.ProviderName.SQLiteMS, autoInitialize: true);
        // The journal is checked before start (JournalFile); should its recovery still stall, fail in seconds, not 30.
        builder.AddHocon("akka.persistence.journal.sql.recovery-event-timeout = 10s", HoconAddMode.Prepend);
        return builder.AddExperimentSerializer();
    }

    /// <summary>
    /// The one place the journal's format is chosen: <see cref="IExperimentEvent"/> and <see cref="ExperimentState"/>
    /// are written by <see cref="ExperimentSerializer"/> (id 8300, versioned JSON). A row keeps the id of the serializer
    /// that wrote it, so rows of journals written before (Akka's default JSON, id 1) are still read by that one.
    /// </summary>
    public static AkkaConfigurationBuilder AddExperimentSerializer(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer("deepcluster-experiment",
                                     [typeof(IExperimentEvent), typeof(ExperimentState), typeof(Cluster.IControlEvent)],
                                     system => new ExperimentSerializer(system));
}

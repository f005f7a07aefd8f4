using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Progress;
using DeepCluster.Actors.Sampling;
using DeepCluster.Actors.Training;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Hosting;

/// <summary>Registers the DeepCluster pipeline with Akka.Hosting: HOCON, the SQL journal, and the actors.</summary>
public static class PipelineHosting
{
    /// <summary>The default HOCON shipped next to the application.</summary>
    public static string DefaultConfigPath => Path.Combine(AppContext.BaseDirectory, "config", "deepcluster.conf");

    public static Config LoadConfig(string? path)
    {
        var file = path ?? DefaultConfigPath;
        if (!File.Exists(file)) throw new FileNotFoundException($"--config {file}: configuration file not found.");
        try { return ConfigurationFactory.ParseString(File.ReadAllText(file)); }
        catch (Exception e) when (e is not FileNotFoundException)
        { throw new InvalidDataException($"--config {file}: not valid HOCON ({e.Message})."); }
    }

    public static AkkaConfigurationBuilder AddDeepClusterPipeline(this AkkaConfigurationBuilder builder, ExperimentFolder folder, Config hocon)
    {
        builder.AddHocon(hocon, HoconAddMode.Prepend);
        builder.WithSqlPersistence(connectionString: $"Data Source={folder.JournalPath}",
                                   providerName: LinqToDB.ProviderName.SQLiteMS, autoInitialize: true);
        // The journal is checked before start (JournalFile); should its recovery still stall, fail in seconds, not 30.
        builder.AddHocon("akka.persistence.journal.sql.recovery-event-timeout = 10s", HoconAddMode.Prepend);
        builder.WithActors((system, registry) =>
        {
            const string compute = "deepcluster.compute-dispatcher";
            var loader = system.ActorOf(DataLoaderActor.Props(), "data-loader");
            var actors = new PipelineActors(
                system.ActorOf(FeatureExtractorActor.Props(loader).WithDispatcher(compute), "feature-extractor"),
                system.ActorOf(ClusteringActor.Props().WithDispatcher(compute), "clustering"),
                system.ActorOf(PseudoLabelSamplerActor.Props(), "pseudo-label-sampler"),
                system.ActorOf(TrainerActor.Props(loader).WithDispatcher(compute), "trainer"));
            system.ActorOf(LogFileActor.Props(folder.LogPath), "log-file");
            registry.Register<ExperimentActor>(system.ActorOf(ExperimentActor.Props(folder, actors), "experiment"));
        });
        return builder;
    }
}

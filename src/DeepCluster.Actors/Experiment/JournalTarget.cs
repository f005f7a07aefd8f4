using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// Where an experiment's events go: its persistence id (<c>experiment-ID</c>, from the folder's <c>experiment.id</c>) and
/// the journal as errors name it (the SQLite file, or the PostgreSQL server).
/// </summary>
public sealed record JournalTarget(string PersistenceId, string Name)
{
    /// <summary>The one persistence id of the folders made before experiments had ids (SQLite: one experiment per file).</summary>
    public const string LegacyPersistenceId = "deepcluster-experiment";

    /// <summary>The persistence id of the experiment with this id.</summary>
    public static string PersistenceIdOf(string experimentId) => $"experiment-{experimentId}";

    /// <summary>A folder of the SQLite journal without an id, as before ids.</summary>
    public static JournalTarget Legacy(ExperimentFolder folder) => new(LegacyPersistenceId, folder.JournalPath);
}

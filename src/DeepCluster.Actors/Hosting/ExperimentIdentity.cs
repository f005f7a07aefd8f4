using DeepCluster.Actors.Experiment;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// Which persistence id an experiment folder's events are journaled under. Every new experiment gets an id, stored in
/// the folder (<c>experiment.id</c>, moved with it), so that experiments sharing a PostgreSQL database never see each
/// other's events; a folder made before ids, whose SQLite journal holds events, keeps the one fixed id it was written
/// with.
/// </summary>
public static class ExperimentIdentity
{
    /// <summary>
    /// The persistence id of the folder as it is, writing nothing: null when it has no id and is not an older SQLite
    /// experiment (a new one would be made).
    /// </summary>
    public static string? Existing(ExperimentFolder folder, JournalSettings journal)
    {
        if (folder.ReadId() is { } id) return JournalTarget.PersistenceIdOf(id);
        return journal.Provider == JournalProvider.Sqlite && Directory.Exists(folder.Root) &&
               JournalFile.Inspect(folder) is JournalContent.Events or JournalContent.InUse
            ? JournalTarget.LegacyPersistenceId
            : null;
    }

    /// <summary>The folder's persistence id, giving it a new id first when it has none (call with the folder locked).</summary>
    public static JournalTarget Resolve(ExperimentFolder folder, JournalSettings journal) =>
        new(Existing(folder, journal) ?? JournalTarget.PersistenceIdOf(folder.CreateId()), journal.Describe(folder));
}

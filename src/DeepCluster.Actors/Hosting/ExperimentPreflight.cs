using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// The checks made on an experiment folder before the actor system starts, writing nothing: the journal is readable
/// (a PostgreSQL server answers), a folder with results has its journal, and the configuration it holds is the one
/// asked for.
/// </summary>
public static class ExperimentPreflight
{
    /// <summary>Throws a user error (one line naming the file, the server or the flags) when the run must not start.</summary>
    /// <param name="journal">The journal (<c>deepcluster.journal</c> / <c>--journal</c>); null: SQLite in the folder.</param>
    public static void Check(ExperimentFolder folder, TrainConfig config, JournalSettings? journal = null)
    {
        journal ??= JournalSettings.Default;
        var postgres = journal.Provider == JournalProvider.PostgreSql;
        if (!Directory.Exists(folder.Root))
        {
            if (postgres) PostgresJournal.Inspect(journal, null);
            return;
        }
        var content = postgres ? PostgresJournal.Inspect(journal, ExperimentIdentity.Existing(folder, journal)) : JournalFile.Inspect(folder);
        if (content is JournalContent.Missing or JournalContent.Empty && folder.ResultFiles() is { Count: > 0 } results)
            throw new InvalidDataException(Orphaned(folder, journal, content, results));
        try { folder.CheckCompatible(config); }
        catch (InvalidDataException) when (content == JournalContent.Events) { /* config.json is rewritten from the journal */ }
    }

    /// <summary>With <c>--restart</c> only the journal itself is checked: a PostgreSQL server must answer.</summary>
    public static void CheckServer(JournalSettings journal)
    {
        if (journal.Provider == JournalProvider.PostgreSql) PostgresJournal.Inspect(journal, null);
    }

    static string Orphaned(ExperimentFolder folder, JournalSettings journal, JournalContent content, IReadOnlyList<string> results)
    {
        var holds = $"the folder holds results ({string.Join(", ", results)}); nothing was changed.";
        const string Options = "Run with --restart to move them aside and start over, or use another --exp folder.";
        if (journal.Provider == JournalProvider.PostgreSql)
        {
            var whose = folder.ReadId() is { } id ? $"experiment {id}" : $"{folder.Root}, which has no experiment.id";
            return $"{journal.Describe(folder)} holds no events of {whose} but {holds} Run with the journal it was started " +
                   "with (--journal, deepcluster.journal); " + char.ToLowerInvariant(Options[0]) + Options[1..];
        }
        var elsewhere = folder.ReadId() is not null
            ? " If it ran on a PostgreSQL journal, give that journal (--journal, deepcluster.journal)."
            : "";
        return $"{folder.JournalPath}: the experiment journal is {(content == JournalContent.Missing ? "missing" : "empty")} but {holds} " +
               Options + elsewhere;
    }

    /// <summary>
    /// <c>--restart</c>: moves what the folder holds aside (call with the folder locked); returns the line to report,
    /// or null when there was nothing to move.
    /// </summary>
    public static string? Restart(ExperimentFolder folder)
    {
        if (!Directory.EnumerateFileSystemEntries(folder.Root)
                .Any(e => Path.GetFileName(e) is var n && n != ".lock" && !n.StartsWith("replaced-", StringComparison.Ordinal)))
            return null;
        var aside = folder.MoveAside();
        return $"--restart: moved the previous content of {folder.Root} to {aside}; starting over";
    }
}

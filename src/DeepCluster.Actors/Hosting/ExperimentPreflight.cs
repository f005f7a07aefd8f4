using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// The checks made on an experiment folder before the actor system starts, writing nothing: the journal is readable,
/// a folder with results has its journal, and the configuration it holds is the one asked for.
/// </summary>
public static class ExperimentPreflight
{
    /// <summary>Throws a user error (one line naming the file or the flags) when the run must not start.</summary>
    public static void Check(ExperimentFolder folder, TrainConfig config)
    {
        if (!Directory.Exists(folder.Root)) return;
        var journal = JournalFile.Inspect(folder);
        if (journal is JournalContent.Missing or JournalContent.Empty && folder.ResultFiles() is { Count: > 0 } results)
            throw new InvalidDataException(
                $"{folder.JournalPath}: the experiment journal is {(journal == JournalContent.Missing ? "missing" : "empty")} " +
                $"but the folder holds results ({string.Join(", ", results)}); nothing was changed. Run with --restart to move " +
                "them aside and start over, or use another --exp folder.");
        try { folder.CheckCompatible(config); }
        catch (InvalidDataException) when (journal == JournalContent.Events) { /* config.json is rewritten from the journal */ }
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

using Akka.Event;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Report;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// The published outputs of an experiment (<c>checkpoint.pth.tar</c>, <c>clusters</c>, <c>metrics.jsonl</c>), kept in
/// line with the journal's state, and the journaled files it reads for them, checked first.
/// </summary>
sealed class ExperimentOutputs(ExperimentFolder folder, ILoggingAdapter log, Action<string> say)
{
    readonly ClustersLogCache clustersLog = new(folder.ClustersPath);

    /// <summary>
    /// Makes checkpoint.pth.tar the last finished epoch's model, as the journal recorded it: nothing to do when it
    /// matches, else published again from the epoch's model file. Returns the error when neither is intact.
    /// <paramref name="epochJustFinished"/>: the file still holds the previous epoch's model, as expected; the new one
    /// is published without a word.
    /// </summary>
    public string? PublishCheckpoint(ExperimentState state, bool epochJustFinished = false)
    {
        if (state.Completed.Count == 0 || state.Model is not { } m) return null;
        var published = m.ProblemAt(folder.CheckpointPath);
        if (published is null) return null;
        var source = folder.Resolve(m.Path);
        if (m.ProblemAt(source) is { } sourceProblem)
            return $"{folder.CheckpointPath}: damaged ({published}), and so is {source}, the model it publishes " +
                   $"({sourceProblem}); epoch {state.Completed[^1].Epoch}'s model cannot be restored from this folder. " +
                   "Start over with --restart, or use another --exp folder.";
        AtomicFile.Publish(source, folder.CheckpointPath);   // a hard link where possible
        if (published != "missing" && !epochJustFinished) say($"{folder.CheckpointPath}: {published}; published again from {source}");
        return null;
    }

    /// <summary>
    /// Brings the published outputs in line with the journal: checkpoint.pth.tar = the last finished epoch's model,
    /// clusters = one entry per finished epoch, metrics.jsonl = one line per finished epoch. Idempotent, so a crash
    /// between the journal write and these files is repaired on the next start. <paramref name="epochJustFinished"/>:
    /// called right after an epoch ended (see <see cref="PublishCheckpoint"/>). Returns the last finished epoch's
    /// cluster lists as the log now holds them (for the report), or null when the log could not be brought in step.
    /// </summary>
    public EpochClusters? Sync(ExperimentState state, bool epochJustFinished = false)
    {
        try
        {
            folder.WriteMetrics(state.Completed);
            if (state.Completed.Count == 0) return null;
            if (PublishCheckpoint(state, epochJustFinished) is { } error) log.Warning(error);
            folder.PruneWork(state.Epoch - 1);                // keeps the previous epoch: its assignments are needed below
            var clusters = clustersLog.Read();
            var finished = state.Completed.Count;
            var last = state.Completed[^1].Epoch;
            if (clusters.Count == finished) return new EpochClusters(last, clusters[^1]);   // already in step with the journal
            if (clusters.Count > finished) clusters = clusters.Take(finished).ToList();
            else if (clusters.Count == finished - 1 && ReadIfIntact(state.PreviousAssignments) is { } assignments)
                clusters.Add(ClusterLists.FromAssignments(assignments, ClusteringRunner.ListCount(state.Config!.Clustering, state.Config.NmbCluster, assignments))
                    .Select(l => l.ToArray()).ToArray());
            else log.Warning("{0}: {1} epoch(s) logged for {2} finished; not rebuilt", folder.ClustersPath, clusters.Count, finished);
            clustersLog.Write(clusters);
            return clusters.Count == finished ? new EpochClusters(last, clusters[^1]) : null;
        }
        catch (Exception e)
        {
            log.Warning("outputs not synchronised: {0}", e.Message);
            return null;
        }
    }

    /// <summary>An int64 .npy the journal recorded, when it is still intact (else a line naming it, and null).</summary>
    public long[]? ReadIfIntact(Artifact? a)
    {
        if (a is null) return null;
        if (a.Problem(folder) is { } problem)
        {
            say($"{folder.Resolve(a.Path)}: {problem}; not used");
            return null;
        }
        return NpyFile.ReadInt64(folder.Resolve(a.Path));
    }
}

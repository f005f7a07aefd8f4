namespace DeepCluster.Actors.Progress;

/// <summary>The phases of a DeepCluster epoch.</summary>
public enum Phase { Features, Clustering, Sampling, Training, Done }

/// <summary>
/// Published on the event stream by the working actors: how far a phase is (batches, clustering iterations),
/// with a rate in <paramref name="Unit"/>/s. The CLI draws it as a progress bar or periodic lines.
/// </summary>
/// <paramref name="Nodes"/>: the nodes (remoting addresses) doing the phase's work, when others than the experiment's.
public sealed record PhaseProgress(int Epoch, Phase Phase, long Done, long Total, double Rate, string Unit, string? Detail = null,
                                   string[]? Nodes = null)
{
    /// <summary>The nodes of these workers: an actor of this process is on <paramref name="self"/>.</summary>
    public static string[] NodesOf(IEnumerable<Akka.Actor.IActorRef> workers, Akka.Actor.Address self) =>
        workers.Select(w => (w.Path.Address.HasGlobalScope ? w.Path.Address : self).ToString()).Distinct().Order().ToArray();
}

/// <summary>A line for the log and the console (epoch summaries, resume notices).</summary>
public sealed record ExperimentLog(string Text);

namespace DeepCluster.Actors.Progress;

/// <summary>The phases of a DeepCluster epoch.</summary>
public enum Phase { Features, Clustering, Sampling, Training, Done }

/// <summary>
/// Published on the event stream by the working actors: how far a phase is (batches, clustering iterations),
/// with a rate in <paramref name="Unit"/>/s. The CLI draws it as a progress bar or periodic lines.
/// </summary>
public sealed record PhaseProgress(int Epoch, Phase Phase, long Done, long Total, double Rate, string Unit, string? Detail = null);

/// <summary>A line for the log and the console (epoch summaries, resume notices).</summary>
public sealed record ExperimentLog(string Text);

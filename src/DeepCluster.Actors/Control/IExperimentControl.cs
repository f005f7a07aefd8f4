using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Control;

/// <summary>
/// What the host's control endpoint can do with experiments. The HTTP API (<c>api</c> role) is a thin layer over it;
/// the host implements it over the experiments' shard region, tests with an in-memory fake. Every method answers
/// within a few seconds: a slow phase never blocks a status request.
/// </summary>
public interface IExperimentControl
{
    /// <summary>
    /// Starts a new experiment with this configuration (already parsed and validated by the client; validated again
    /// here) and returns its id. <see cref="TrainConfig.Exp"/> is ignored: the host places the experiment in its
    /// experiments folder, <c>ROOT/ID</c>. Bad input: <see cref="ArgumentException"/> naming the flag.
    /// </summary>
    Task<string> SubmitAsync(TrainConfig config, CancellationToken ct);

    /// <summary>Every experiment the host knows, newest first.</summary>
    Task<IReadOnlyList<ExperimentStatusView>> ListAsync(CancellationToken ct);

    /// <summary>Where one experiment stands. <see cref="UnknownExperimentException"/> when there is no such id.</summary>
    Task<ExperimentStatusView> StatusAsync(string id, CancellationToken ct);

    /// <summary>Pause (at the next safe point), resume or stop; the reply says what happens.</summary>
    Task<ControlReply> PauseAsync(string id, CancellationToken ct);
    Task<ControlReply> ResumeAsync(string id, CancellationToken ct);
    Task<ControlReply> StopAsync(string id, CancellationToken ct);

    /// <summary>
    /// The experiment's log (its <c>train.log</c>) from byte <paramref name="offset"/>: whole lines only, and the offset
    /// to ask from next (a follower polls with it).
    /// </summary>
    Task<LogChunk> LogsAsync(string id, long offset, CancellationToken ct);
}

/// <summary>The run state of an experiment as the control API reports it.</summary>
public static class RunStates
{
    /// <summary>Submitted; its first model is being made.</summary>
    public const string Starting = "starting";
    public const string Running = "running";
    /// <summary>A pause was asked for; the current phase runs to its next safe point.</summary>
    public const string Pausing = "pausing";
    public const string Paused = "paused";
    public const string Stopped = "stopped";
    public const string Finished = "finished";
    public const string Failed = "failed";
}

/// <summary>
/// One experiment as <c>deepcluster status ID</c> shows it: run state (<see cref="RunStates"/>), epoch (0-based, of
/// <paramref name="Epochs"/>), phase (features, clustering, sampling, training, done), the progress of the phase
/// (<paramref name="Done"/> of <paramref name="Total"/> <paramref name="Unit"/>, at <paramref name="Rate"/>/s), the last
/// metrics line, the node running each phase of the current epoch (phase → address) and the error of a failed run.
/// </summary>
public sealed record ExperimentStatusView(
    string Id, string State, int Epoch, int Epochs, string Phase, long Done, long Total, double Rate, string? Unit,
    string? LastMetrics, IReadOnlyDictionary<string, string> Nodes, string Folder, string? Error, DateTimeOffset Submitted);

/// <summary>The answer to pause / resume / stop: the state the experiment is now in and one line saying so.</summary>
public sealed record ControlReply(string Id, string State, string Message);

/// <summary>Whole lines of the log from the requested offset; <paramref name="NextOffset"/> continues after them.</summary>
public sealed record LogChunk(string Id, IReadOnlyList<string> Lines, long NextOffset, string State);

/// <summary>No experiment has this id (HTTP 404).</summary>
public sealed class UnknownExperimentException(string id) : Exception($"no experiment {id} on this host")
{
    public string Id { get; } = id;
}

using DeepCluster.Actors.Control;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Cluster;

/// <summary>
/// What a host's experiment entity journals (persistence id <c>control-ID</c>): the submission and every change of
/// its run state asked for by a user or reached by the run. The training progress itself is the experiment actor's
/// journal (<c>experiment-ID</c>); this one only says whether the experiment should be running.
/// </summary>
public interface IControlEvent;

/// <summary>The experiment was submitted with this configuration (its folder is the host's <c>ROOT/ID</c>).</summary>
public sealed record ExperimentSubmitted(TrainConfig Config, DateTimeOffset At) : IControlEvent;

/// <summary>
/// The run state changed to <paramref name="State"/> (one of <see cref="RunStates"/>); <paramref name="Detail"/> is the
/// error of a failed run or where a paused one stopped.
/// </summary>
public sealed record RunStateChanged(string State, string? Detail, DateTimeOffset At) : IControlEvent;

/// <summary>The entity's durable state, rebuilt from its events.</summary>
public sealed record ControlState
{
    public TrainConfig? Config { get; init; }
    public DateTimeOffset Submitted { get; init; }
    public string State { get; init; } = RunStates.Starting;
    public string? Detail { get; init; }

    public bool Exists => Config is not null;

    /// <summary>Whether the host should run it: after a restart, running ones continue and a pause in progress ends paused.</summary>
    public bool ShouldRun => Exists && State is RunStates.Starting or RunStates.Running;

    public ControlState Apply(IControlEvent e) => e switch
    {
        ExperimentSubmitted s => this with { Config = s.Config, Submitted = s.At, State = RunStates.Running, Detail = null },
        RunStateChanged c => this with { State = c.State, Detail = c.Detail },
        _ => throw new ArgumentException($"unknown control event {e.GetType().Name}"),
    };
}

using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// What the experiment journals: one event per durable point (phase boundaries, iteration checkpoints). Every file an
/// event names is an <see cref="Artifact"/>: a path relative to the experiment folder, its size and checksum.
/// </summary>
public interface IExperimentEvent;

/// <summary>
/// A new experiment: journaled only once its configuration was validated and its first model saved to
/// <paramref name="Model"/>; epochs start at <paramref name="StartEpoch"/> (from <c>--resume</c> or <c>--start_epoch</c>).
/// </summary>
public sealed record ExperimentCreated(TrainConfig Config, Artifact Model, int StartEpoch) : IExperimentEvent;

/// <summary>The user continued the run with other run settings (<c>--workers</c>, <c>--epochs</c>, …).</summary>
public sealed record RunSettingsChanged(RunSettings Settings) : IExperimentEvent;

public sealed record FeaturesDone(int Epoch, Artifact Features, Artifact? TrueLabels, double Seconds) : IExperimentEvent;

public sealed record ClusteringDone(int Epoch, Artifact Assignments, double Loss, int NonEmpty, double Seconds,
                                    double? NmiPrevious, double? NmiLabels) : IExperimentEvent;

public sealed record SamplingDone(int Epoch, Artifact Order, Artifact Labels, int Count, int Clusters) : IExperimentEvent;

/// <summary>An iteration checkpoint: training can continue from it after a crash.</summary>
public sealed record TrainingCheckpointed(int Epoch, int Iteration, Artifact Checkpoint, double LossSum, long LossCount) : IExperimentEvent;

/// <summary>The epoch is complete: its metrics and the model it ended with.</summary>
public sealed record EpochDone(EpochMetrics Metrics, Artifact Model, Artifact Assignments) : IExperimentEvent;

/// <summary>
/// A file the epoch needs was damaged or missing (<paramref name="Reason"/> names it): the epoch goes back to
/// <paramref name="Phase"/>, the phase that makes that file (<see cref="Phase.Training"/>: training restarts from the
/// epoch's first iteration).
/// </summary>
public sealed record PhaseRewound(int Epoch, Phase Phase, string Reason) : IExperimentEvent;

/// <summary>
/// One range of the current epoch's feature pass is computed: the rows of images <paramref name="Start"/> ..
/// <paramref name="Start"/>+<paramref name="Count"/>-1 are in <paramref name="File"/>. A resumed feature pass reuses it.
/// </summary>
public sealed record FeatureRangeDone(int Epoch, int Start, int Count, Artifact File) : IExperimentEvent;

using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Experiment;

/// <summary>What the experiment journals: one event per durable point (phase boundaries, iteration checkpoints).</summary>
public interface IExperimentEvent;

/// <summary>A new experiment with this configuration.</summary>
public sealed record ExperimentCreated(TrainConfig Config) : IExperimentEvent;

/// <summary>The user continued the run asking for a different number of epochs.</summary>
public sealed record EpochsChanged(int Epochs) : IExperimentEvent;

/// <summary>The first model is saved; epochs start at <paramref name="StartEpoch"/>.</summary>
public sealed record ModelReady(string ModelPath, int StartEpoch) : IExperimentEvent;

public sealed record FeaturesDone(int Epoch, string FeaturesPath, string? TrueLabelsPath, double Seconds) : IExperimentEvent;

public sealed record ClusteringDone(int Epoch, string AssignmentsPath, double Loss, int NonEmpty, double Seconds,
                                    double? NmiPrevious, double? NmiLabels) : IExperimentEvent;

public sealed record SamplingDone(int Epoch, string OrderPath, string LabelsPath, int Count, int Clusters) : IExperimentEvent;

/// <summary>An iteration checkpoint: training can continue from it after a crash.</summary>
public sealed record TrainingCheckpointed(int Epoch, int Iteration, string Path, double LossSum, long LossCount) : IExperimentEvent;

/// <summary>The epoch is complete: its metrics and the model it ended with.</summary>
public sealed record EpochDone(EpochMetrics Metrics, string ModelPath, string AssignmentsPath) : IExperimentEvent;

using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Experiment;

/// <summary>
/// Where the experiment stands, rebuilt from the journal: the current epoch and phase, the durable artefacts of the
/// phases already done, and the metrics of finished epochs. Immutable; <see cref="Apply"/> folds one event in.
/// </summary>
public sealed record ExperimentState
{
    public TrainConfig? Config { get; init; }
    /// <summary>The model the current epoch starts from (the previous epoch's end, or the first model).</summary>
    public Artifact? Model { get; init; }
    public int Epoch { get; init; }
    public Phase Phase { get; init; } = Phase.Features;
    public FeaturesDone? Features { get; init; }
    public ClusteringDone? Clustering { get; init; }
    public SamplingDone? Sampling { get; init; }
    public TrainingCheckpointed? LastCheckpoint { get; init; }
    /// <summary>The previous epoch's assignments (for NMI against the previous assignment and the clusters log).</summary>
    public Artifact? PreviousAssignments { get; init; }
    public IReadOnlyList<EpochMetrics> Completed { get; init; } = [];
    /// <summary>
    /// The ranges of the current epoch's feature pass computed so far (null when none: between feature passes, so the
    /// snapshots taken at the end of an epoch do not store the field).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FeatureRangeDone>? FeatureRanges { get; init; }

    /// <summary>The experiment was created: its configuration is journaled and its first model saved.</summary>
    public bool Started => Config is not null;
    public bool Finished => Config is not null && Epoch >= Config.Epochs;

    public ExperimentState Apply(IExperimentEvent e) => e switch
    {
        ExperimentCreated c => this with { Config = c.Config, Model = c.Model, Epoch = c.StartEpoch, Phase = Phase.Features },
        RunSettingsChanged c => this with { Config = Config!.With(c.Settings) },
        FeatureRangeDone r => this with { FeatureRanges = (FeatureRanges ?? []).Append(r).ToList() },
        FeaturesDone f => this with { Features = f, Phase = Phase.Clustering, FeatureRanges = null },
        ClusteringDone c => this with { Clustering = c, Phase = Phase.Sampling },
        SamplingDone s => this with { Sampling = s, Phase = Phase.Training, LastCheckpoint = null },
        TrainingCheckpointed t => this with { LastCheckpoint = t },
        EpochDone d => this with
        {
            Completed = Completed.Append(d.Metrics).ToList(),
            Model = d.Model,
            PreviousAssignments = d.Assignments,
            Epoch = d.Metrics.Epoch + 1,
            Phase = Phase.Features,
            Features = null, Clustering = null, Sampling = null, LastCheckpoint = null, FeatureRanges = null,
        },
        PhaseRewound r => RewindTo(r.Phase),
        _ => throw new ArgumentException($"unknown experiment event {e.GetType().Name}"),
    };

    /// <summary>Forgets what the phases from <paramref name="phase"/> on have made in the current epoch.</summary>
    ExperimentState RewindTo(Phase phase) => this with
    {
        Phase = phase,
        Features = phase <= Phase.Features ? null : Features,
        FeatureRanges = null,
        Clustering = phase <= Phase.Clustering ? null : Clustering,
        Sampling = phase <= Phase.Sampling ? null : Sampling,
        LastCheckpoint = null,
    };
}

namespace DeepCluster.Core.Experiment;

/// <summary>One line of <c>metrics.jsonl</c>: what an epoch did and how long each phase took.</summary>
public sealed record EpochMetrics
{
    public int Epoch { get; init; }
    public double EpochSeconds { get; init; }
    public double FeaturesSeconds { get; init; }
    public double ClusteringSeconds { get; init; }
    public double TrainingSeconds { get; init; }
    public double TrainImagesPerSecond { get; init; }
    public double ClusteringLoss { get; init; }
    public double ConvnetLoss { get; init; }
    public int NonEmptyClusters { get; init; }
    /// <summary>NMI between this epoch's assignment and the previous one; null for the first epoch.</summary>
    public double? NmiPrevious { get; init; }
    /// <summary>NMI against the dataset's true labels, when it has them.</summary>
    public double? NmiLabels { get; init; }
}

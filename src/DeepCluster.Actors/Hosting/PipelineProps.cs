using Akka.Actor;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Sampling;
using DeepCluster.Actors.Training;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// How each pipeline actor is made. The defaults are the real actors; a test substitutes one (e.g. an actor that
/// throws in a given phase) to check that every failure reaches the experiment. The feature pass and the trainer
/// are given the data loader (the trainer, in a host, the batch source that may have other nodes make its batches); a feature worker is given the data loader and the feature pass it serves, a clustering
/// worker the clustering actor it serves.
/// </summary>
public sealed record PipelineProps
{
    public static PipelineProps Default { get; } = new();

    public Func<Props> DataLoader { get; init; } = DataLoaderActor.Props;
    public Func<IActorRef, Props> FeatureExtractor { get; init; } = FeaturePassActor.Props;
    public Func<IActorRef, IActorRef, Props> FeatureWorker { get; init; } = FeatureWorkerActor.Props;
    public Func<Props> Clustering { get; init; } = KMeansCoordinatorActor.Props;
    public Func<IActorRef, Props> ClusteringWorker { get; init; } = KMeansWorkerActor.Props;
    public Func<Props> Sampler { get; init; } = PseudoLabelSamplerActor.Props;
    public Func<IActorRef, Props> Trainer { get; init; } = TrainerActor.Props;
    /// <summary>The trainer's batch source in a host (given the data loader): loader workers of worker nodes make its batches.</summary>
    public Func<IActorRef, Props> BatchSource { get; init; } = loader => DistributedLoaderActor.Props(loader);
    /// <summary>A loader worker of a worker node (given the source to announce itself to, or Nobody).</summary>
    public Func<IActorRef, Props> LoaderWorker { get; init; } = source => LoaderWorkerActor.Props(source);
}

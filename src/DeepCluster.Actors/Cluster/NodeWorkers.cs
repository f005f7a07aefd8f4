using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Hosting;

namespace DeepCluster.Actors.Cluster;

/// <summary>The DistributedPubSub topics on which experiments look for the workers of other nodes.</summary>
public static class WorkerTopics
{
    /// <summary>Carries <see cref="FeatureWorkersWanted"/>: every node's feature workers answer the pass that asks.</summary>
    public const string Features = "deepcluster-feature-workers";
    /// <summary>Carries <see cref="KMeansWorkersWanted"/>: every node's k-means workers answer the coordinator that asks.</summary>
    public const string Clustering = "deepcluster-kmeans-workers";
    /// <summary>Carries <see cref="LoaderWorkersWanted"/>: every node's loader worker answers the batch source that asks.</summary>
    public const string Loaders = "deepcluster-loader-workers";

    /// <summary>
    /// Asks every worker node for workers, for this experiment's feature pass and clustering actors, and for its
    /// trainer's batch source when it has one.
    /// </summary>
    public static void LookForWorkers(ActorSystem system, IActorRef featurePass, IActorRef clustering, IActorRef? batches = null)
    {
        var mediator = DistributedPubSub.Get(system).Mediator;
        mediator.Tell(new Publish(Features, new FeatureWorkersWanted(featurePass)));
        mediator.Tell(new Publish(Clustering, new KMeansWorkersWanted(clustering)));
        if (batches is not null) mediator.Tell(new Publish(Loaders, new LoaderWorkersWanted(batches)));
    }
}

/// <summary>
/// The workers of a node with the <c>worker</c> role (<c>/user/workers</c>): a data loader,
/// <c>deepcluster.features.local-workers</c> feature workers, <c>deepcluster.clustering.local-workers</c> k-means
/// workers and a loader worker (training batches, with this node's cores), which serve the experiments of every
/// coordinator node. They are found over DistributedPubSub: an experiment publishes <see cref="FeatureWorkersWanted"/> /
/// <see cref="KMeansWorkersWanted"/> / <see cref="LoaderWorkersWanted"/> and each worker answers the asking actor directly. Messages carry paths and small records; rows go through the shared folder.
/// </summary>
public sealed class NodeWorkers : ReceiveActor
{
    readonly PipelineProps props;
    readonly List<IActorRef> features = [], clustering = [];
    readonly HashSet<IActorRef> passes = [];   // the feature passes these workers serve (told when one restarts)
    readonly HashSet<IActorRef> sources = [];  // the batch sources the loader worker serves (told when it restarts)
    readonly IActorRef loaderWorker;
    int made;

    public NodeWorkers(PipelineProps props)
    {
        this.props = props;
        var settings = DeepClusterSettings.Of(Context.System);
        var loader = Context.ActorOf(props.DataLoader(), "data-loader");
        for (var i = 0; i < Math.Max(1, settings.LocalWorkers); i++)
            features.Add(Context.ActorOf(props.FeatureWorker(loader, ActorRefs.Nobody).WithDispatcher(Hosting.PipelineSupervisor.ComputeDispatcher), $"feature-worker-{i}"));
        for (var i = 0; i < Math.Max(1, settings.LocalClusteringWorkers); i++) clustering.Add(NewKMeansWorker());
        loaderWorker = Context.ActorOf(props.LoaderWorker(ActorRefs.Nobody), "loader-worker");
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new Subscribe(WorkerTopics.Features, Self));
        mediator.Tell(new Subscribe(WorkerTopics.Clustering, Self));
        mediator.Tell(new Subscribe(WorkerTopics.Loaders, Self));
        Receive<FeatureWorkersWanted>(w =>
        {
            if (passes.Add(w.Pass)) Context.Watch(w.Pass);
            features.ForEach(f => f.Forward(w));
        });
        Receive<KMeansWorkersWanted>(w => clustering.ForEach(k => k.Forward(w)));
        Receive<LoaderWorkersWanted>(w =>
        {
            if (sources.Add(w.Source)) Context.Watch(w.Source);
            loaderWorker.Forward(w);
        });
        Receive<Terminated>(t =>
        {
            passes.Remove(t.ActorRef);
            sources.Remove(t.ActorRef);
            if (clustering.Remove(t.ActorRef)) clustering.Add(NewKMeansWorker());
        });
        Receive<SubscribeAck>(_ => { });
    }

    IActorRef NewKMeansWorker() =>
        Context.Watch(Context.ActorOf(props.ClusteringWorker(ActorRefs.Nobody).WithDispatcher(Hosting.PipelineSupervisor.ComputeDispatcher), $"kmeans-worker-{made++}"));

    public static Props Props(PipelineProps props) => Akka.Actor.Props.Create(() => new NodeWorkers(props));

    /// <summary>
    /// A feature worker that throws is restarted, and every pass it serves is told (it gives the worker's range to
    /// another), and so is the loader worker (every batch source it serves gives its batches to another); a k-means
    /// worker that throws is stopped (its coordinator fails that clustering, naming it) and replaced.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ReportingStrategy(10, TimeSpan.FromMinutes(1), Decide);

    Directive Decide(IActorRef child, Exception _)
    {
        if (child.Equals(loaderWorker))
        {
            foreach (var source in sources) source.Tell(new LoaderWorkerAvailable(child, Environment.ProcessorCount, Started: true));
            return Directive.Restart;
        }
        if (!features.Contains(child)) return Directive.Stop;
        foreach (var pass in passes) pass.Tell(new WorkerAvailable(child, Started: true));
        return Directive.Restart;
    }
}

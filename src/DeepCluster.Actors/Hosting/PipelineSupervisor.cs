using System.Reflection;
using Akka.Actor;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;

namespace DeepCluster.Actors.Hosting;

/// <summary>
/// A pipeline actor threw an exception it did not handle: <paramref name="Actor"/> is its name (data-loader,
/// feature-extractor, feature-worker-N, clustering, clustering-worker-N, pseudo-label-sampler, trainer, batch-source), <paramref name="Error"/> the exception in one line.
/// The actor has been restarted with fresh state; the work it was doing is lost, so the experiment fails the run.
/// </summary>
public sealed record PipelineActorFailed(string Actor, string Error);

/// <summary>Asks the <see cref="PipelineSupervisor"/> for the actors the experiment drives (replies <see cref="PipelineActors"/>).</summary>
public sealed record GetPipelineActors
{
    public static GetPipelineActors Instance { get; } = new();
}

/// <summary>Asks the <see cref="PipelineSupervisor"/> for the experiment actor (replies with its <see cref="IActorRef"/>).</summary>
public sealed record GetExperiment
{
    public static GetExperiment Instance { get; } = new();
}

/// <summary>
/// The parent of the experiment and of the pipeline actors it drives (data loader, feature pass and its local feature
/// workers, clustering and its local k-means workers, pseudo-label sampler, trainer). Its policy, so that nothing ever waits for a reply that will not come:
/// <list type="bullet">
/// <item>a pipeline actor that throws an exception it does not handle itself is restarted with fresh state, and the
/// failure is sent to the experiment as <see cref="PipelineActorFailed"/>; the experiment ends the run with a message
/// naming the actor, the phase and the error. An actor that keeps failing (more than <see cref="MaxRestarts"/> times
/// a minute, e.g. in its constructor) is stopped;</item>
/// <item>the experiment itself is stopped, not restarted (a restart would replay its journal and wait for a
/// <see cref="RunExperiment"/> nobody sends again), and the failure is reported as <see cref="ExperimentFailed"/>.</item>
/// </list>
/// What the experiment reports (log lines, progress, completion, failure, a pause) goes on to <c>reportTo</c>: the
/// host's experiment entity, or, without one (<c>deepcluster train</c>), the event stream, where the console and the
/// log file listen.
/// </summary>
public sealed class PipelineSupervisor : ReceiveActor
{
    public const int MaxRestarts = 5;
    /// <summary>
    /// The dispatcher of long-running work (feature pass, clustering, SGD steps, the report), configured under this key
    /// (<c>config/deepcluster.conf</c>): threads of its own, so the experiment, the loader and the console never wait behind it.
    /// </summary>
    public const string ComputeDispatcher = "deepcluster.compute-dispatcher";

    readonly IActorRef experiment;
    readonly IActorRef? reportTo;

    /// <param name="localWorkers">Make this process's feature and k-means workers (<c>train</c>); off in a host, whose
    /// worker nodes serve every experiment (<see cref="Cluster.NodeWorkers"/>).</param>
    public PipelineSupervisor(PipelineProps props, Func<PipelineActors, Props> experimentProps, IActorRef? reportTo = null,
                              bool localWorkers = true)
    {
        this.reportTo = reportTo;
        var loader = Context.ActorOf(props.DataLoader(), "data-loader");
        var features = Context.ActorOf(props.FeatureExtractor(loader).WithDispatcher(ComputeDispatcher), "feature-extractor");
        // This process's feature workers announce themselves to the feature pass; workers of other nodes may join it.
        for (var i = 0; localWorkers && i < DeepClusterSettings.Of(Context.System).LocalWorkers; i++)
            Context.ActorOf(props.FeatureWorker(loader, features).WithDispatcher(ComputeDispatcher), $"feature-worker-{i}");
        var clustering = Context.ActorOf(props.Clustering().WithDispatcher(ComputeDispatcher), "clustering");
        for (var i = 0; localWorkers && i < DeepClusterSettings.Of(Context.System).LocalClusteringWorkers; i++)
            Context.ActorOf(props.ClusteringWorker(clustering).WithDispatcher(ComputeDispatcher), $"clustering-worker-{i}");
        // In a host, the trainer's batches may be made by the loader workers of worker nodes (deepcluster.training.remote-loaders).
        var batches = localWorkers || DeepClusterSettings.Of(Context.System).RemoteLoadersMode == DataLoading.RemoteLoaders.Off
            ? null : Context.ActorOf(props.BatchSource(loader), "batch-source");
        var actors = new PipelineActors(
            features,
            clustering,
            Context.ActorOf(props.Sampler(), "pseudo-label-sampler"),
            Context.ActorOf(props.Trainer(batches ?? loader).WithDispatcher(ComputeDispatcher), "trainer"),
            batches);
        experiment = Context.ActorOf(experimentProps(actors), "experiment");
        Receive<GetExperiment>(_ => Sender.Tell(experiment));
        Receive<GetPipelineActors>(_ => Sender.Tell(actors));
        Receive<RunExperiment>(r => experiment.Forward(r));
        Receive<HaltExperiment>(h => experiment.Forward(h));
        Receive<PhaseProgress>(Report);
        Receive<ExperimentLog>(Report);
        Receive<ExperimentCompleted>(Report);
        Receive<ExperimentFailed>(Report);
        Receive<ExperimentHalted>(Report);
    }

    void Report(object message)
    {
        if (reportTo is null) Context.System.EventStream.Publish(message);
        else reportTo.Tell(message);
    }

    public static Props Props(PipelineProps props, Func<PipelineActors, Props> experiment, IActorRef? reportTo = null,
                              bool localWorkers = true) =>
        Akka.Actor.Props.Create(() => new PipelineSupervisor(props, experiment, reportTo, localWorkers));

    protected override SupervisorStrategy SupervisorStrategy() => new ReportingStrategy(MaxRestarts, TimeSpan.FromMinutes(1), Decide);

    Directive Decide(IActorRef child, Exception cause)
    {
        if (child.Equals(experiment))
        {
            Report(new ExperimentFailed($"the experiment actor failed: {Describe(cause)}"));
            return Directive.Stop;
        }
        experiment.Tell(new PipelineActorFailed(child.Path.Name, Describe(cause)));
        return Directive.Restart;
    }

    /// <summary>The exception in one line: its type where the message alone says little, never a stack trace.</summary>
    public static string Describe(Exception cause)
    {
        var e = cause;
        while (e is ActorInitializationException or TargetInvocationException or AggregateException && e.InnerException is not null)
            e = e.InnerException;
        var message = (e.Message ?? "").Split('\n', 2)[0].Trim();   // TorchSharp appends libtorch's C++ backtrace
        return e is ArgumentException or IOException or UnauthorizedAccessException ? message : $"{e.GetType().Name}: {message}";
    }
}

/// <summary>
/// One-for-one with a decision per child: <c>decide</c> runs on the supervisor's thread and may report the failure.
/// Akka's own error log of the failure (a stack trace on the console) is left out: the report says it in one line.
/// </summary>
public sealed class ReportingStrategy(int maxRetries, TimeSpan within, Func<IActorRef, Exception, Directive> decide)
    : OneForOneStrategy(maxRetries, within, _ => Directive.Restart)
{
    protected override Directive Handle(IActorRef child, Exception exception) => decide(child, exception);

    protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive) { }
}

/// <summary>
/// The user guardian's policy (<c>akka.actor.guardian-supervisor-strategy</c>): a top-level actor that throws (the
/// pipeline supervisor, the log writer) is stopped, not restarted, and the failure is published as
/// <see cref="ExperimentFailed"/>, so the run ends with one line instead of waiting on an actor that lost its state.
/// </summary>
public sealed class ReportingGuardianStrategy : SupervisorStrategyConfigurator
{
    public override SupervisorStrategy Create() => new StopAndPublish();

    sealed class StopAndPublish() : OneForOneStrategy(_ => Directive.Stop)
    {
        public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause,
                                            Akka.Actor.Internal.ChildRestartStats stats,
                                            IReadOnlyCollection<Akka.Actor.Internal.ChildRestartStats> children)
        {
            context.System.EventStream.Publish(new ExperimentFailed($"{child.Path.Name} failed: {PipelineSupervisor.Describe(cause)}"));
            base.ProcessFailure(context, restart, child, cause, stats, children);
        }

        protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive) { }
    }
}

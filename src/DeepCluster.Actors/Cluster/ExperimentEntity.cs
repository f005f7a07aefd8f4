using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using DeepCluster.Actors.Control;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.Cluster;

/// <summary>A message for the experiment entity <see cref="ExperimentId"/>; the shard region routes it by that id.</summary>
public interface IExperimentCommand
{
    string ExperimentId { get; }
}

/// <summary>Start a new experiment with this configuration. Answers its <see cref="ExperimentStatusView"/>, or a failure.</summary>
public sealed record SubmitExperiment(string ExperimentId, TrainConfig Config) : IExperimentCommand;

/// <summary>Answers <see cref="ExperimentStatusView"/>, or <see cref="ExperimentUnknown"/>.</summary>
public sealed record GetExperimentStatus(string ExperimentId) : IExperimentCommand;

public enum ControlAction { Pause, Resume, Stop }

/// <summary>Pause, resume or stop. Answers <see cref="ControlReply"/>, or <see cref="ExperimentUnknown"/>.</summary>
public sealed record ControlExperiment(string ExperimentId, ControlAction Action) : IExperimentCommand;

/// <summary>No experiment was ever submitted under this id.</summary>
public sealed record ExperimentUnknown(string ExperimentId);

/// <summary>
/// One experiment of a host, as a sharded entity (Akka.Cluster.Sharding, remember-entities): it owns the experiment's
/// <see cref="PipelineSupervisor"/> (the same actors <c>deepcluster train</c> runs) and its log, journals whether the
/// experiment should run (<see cref="IControlEvent"/>, persistence id <c>control-ID</c>), answers status requests from
/// what the run reports, and carries out pause (at the next safe point), resume and stop. After a host restart (or on
/// the node that takes its shard over) it recovers that state and continues a running experiment from the experiment
/// journal's last durable point; a paused or stopped one stays so. An experiment at rest (finished, failed, paused,
/// stopped) passivates after <see cref="IdleAfter"/>, so the shard no longer remembers it.
/// </summary>
public sealed class ExperimentEntity : ReceivePersistentActor, IWithTimers
{
    /// <summary>
    /// How often a running experiment looks for workers again: a node that joined since, or whose subscription had not
    /// yet spread over the cluster when the pipeline started, serves the current pass from its next range.
    /// </summary>
    public static readonly TimeSpan LookAgainEvery = TimeSpan.FromSeconds(2);
    sealed record LookForWorkers;

    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(30);

    readonly string id;
    readonly ExperimentFolder folder;
    readonly string journalName;
    readonly PipelineProps props;
    readonly ILoggingAdapter log = Context.GetLogger();
    ControlState control = new();
    IActorRef? pipeline, logFile;
    PipelineActors? workersFor;   // the running pipeline's feature pass and clustering actors
    FolderLock? folderLock;
    PhaseProgress? progress;
    ExperimentHalted? halted;
    string? lastMetrics;
    int generation;
    readonly Dictionary<string, string> phaseNodes = [];   // phase → the node(s) that did its work, this epoch

    public override string PersistenceId => $"control-{id}";
    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="root">The host's experiments folder: this experiment lives in <c>root/id</c>.</param>
    /// <param name="journalName">The journal as errors name it.</param>
    public ExperimentEntity(string id, string root, string journalName, PipelineProps? props = null)
    {
        this.id = id;
        folder = new ExperimentFolder(Path.Combine(root, id));
        this.journalName = journalName;
        this.props = props ?? PipelineProps.Default;

        Recover<IControlEvent>(e => control = control.Apply(e));
        Recover<RecoveryCompleted>(_ => Recovered());

        Command<SubmitExperiment>(Submit);
        Command<GetExperimentStatus>(_ => Sender.Tell(control.Exists ? View() : new ExperimentUnknown(id)));
        Command<ControlExperiment>(Control);
        Command<PhaseProgress>(p =>
        {
            if (!control.ShouldRun && control.State != RunStates.Pausing) return;   // a late report of a run at its end
            if (progress is { } last && last.Epoch != p.Epoch) phaseNodes.Clear();
            progress = p;
            halted = null;
            phaseNodes[Name(p.Phase)] = p.Nodes is { Length: > 0 } nodes ? string.Join(", ", nodes) : NodeAddress;
        });
        Command<ExperimentLog>(OnLog);
        Command<ExperimentCompleted>(_ => End(RunStates.Finished, null));
        Command<ExperimentFailed>(f => End(RunStates.Failed, f.Error));
        Command<ExperimentHalted>(OnHalted);
        Command<Terminated>(t => t.ActorRef.Equals(pipeline), _ => PipelineGone());
        // The workers of every worker node (NodeWorkers) are found over DistributedPubSub, now and as nodes join.
        Command<PipelineActors>(a => { workersFor = a; Self.Tell(new LookForWorkers()); });
        Command<LookForWorkers>(_ =>
        {
            if (pipeline is null || workersFor is null) return;
            WorkerTopics.LookForWorkers(Context.System, workersFor.FeatureExtractor, workersFor.Clustering, workersFor.Batches);
            Timers.StartSingleTimer("look-for-workers", new LookForWorkers(), LookAgainEvery);
        });
        Command<ReceiveTimeout>(_ => { if (pipeline is null) Context.Parent.Tell(new Passivate(PoisonPill.Instance)); });
    }

    public static Props Props(string id, string root, string journalName, PipelineProps? props = null) =>
        Akka.Actor.Props.Create(() => new ExperimentEntity(id, root, journalName, props));

    void Recovered()
    {
        if (control.State == RunStates.Pausing)
        {
            // The host stopped while a pause was under way: the pause holds (the experiment journal has its last safe point).
            Persist(new RunStateChanged(RunStates.Paused, "the host restarted during the pause", DateTimeOffset.UtcNow), Apply);
            Rest();
            return;
        }
        if (control.ShouldRun) StartPipeline("continuing");
        else Rest();
    }

    void Submit(SubmitExperiment s)
    {
        if (control.Exists) { Sender.Tell(new Status.Failure(new ArgumentException($"experiment {id} exists already"))); return; }
        var config = s.Config with { Exp = folder.Root };
        try
        {
            config.Validate();
            if (Directory.Exists(folder.Root) && Directory.EnumerateFileSystemEntries(folder.Root).Any())
                throw new ArgumentException($"{folder.Root}: not empty; another experiment's files are there");
            folder.CreateLayout();
            folder.WriteId(id);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new Status.Failure(e is ArgumentException ? e : new ArgumentException($"{folder.Root}: {e.Message}")));
            Rest();
            return;
        }
        var sender = Sender;
        Persist(new ExperimentSubmitted(config, DateTimeOffset.UtcNow), e =>
        {
            Apply(e);
            StartPipeline("submitted");
            sender.Tell(View());
        });
    }

    void Control(ControlExperiment c)
    {
        if (!control.Exists) { Sender.Tell(new ExperimentUnknown(id)); Rest(); return; }
        var state = control.State;
        switch (c.Action)
        {
            case ControlAction.Pause when state is RunStates.Starting or RunStates.Running:
                if (pipeline is null) { Change(RunStates.Paused, null, "paused"); return; }
                Change(RunStates.Pausing, null, "pausing: the current phase stops at its next safe point");
                pipeline.Tell(HaltExperiment.Instance);
                return;
            case ControlAction.Resume when state is RunStates.Paused or RunStates.Stopped or RunStates.Failed:
                if (pipeline is not null) { Reply("still stopping; try again in a moment"); return; }
                var sender = Sender;
                Persist(new RunStateChanged(RunStates.Running, null, DateTimeOffset.UtcNow), e =>
                {
                    Apply(e);
                    StartPipeline("resumed");
                    sender.Tell(new ControlReply(id, control.State, "resumed: continuing from the last durable point"));
                });
                return;
            case ControlAction.Stop when state is RunStates.Starting or RunStates.Running or RunStates.Pausing or RunStates.Paused:
                Change(RunStates.Stopped, null, "stopped; `resume` continues it from the last durable point");
                StopPipeline();
                return;
            default:
                Reply(c.Action switch
                {
                    ControlAction.Pause => $"not running ({state}); nothing to pause",
                    ControlAction.Resume when state is RunStates.Finished => "finished; nothing to resume",
                    ControlAction.Resume => $"already {state}",
                    _ => $"not running ({state}); nothing to stop",
                });
                return;
        }

        void Reply(string message) => Sender.Tell(new ControlReply(id, state, message));
    }

    /// <summary>Journals the new state, then answers the sender with <paramref name="message"/>.</summary>
    void Change(string state, string? detail, string message)
    {
        var sender = Sender;
        Persist(new RunStateChanged(state, detail, DateTimeOffset.UtcNow), e =>
        {
            Apply(e);
            Say(message);
            sender.Tell(new ControlReply(id, control.State, message));
        });
    }

    void OnHalted(ExperimentHalted h)
    {
        halted = h;
        progress = null;
        if (control.State != RunStates.Pausing) return;
        var where = $"epoch {h.Epoch}, {h.Phase.ToString().ToLowerInvariant()}" + (h.Iteration is { } i ? $" iteration {i}" : "");
        Persist(new RunStateChanged(RunStates.Paused, where, DateTimeOffset.UtcNow), e =>
        {
            Apply(e);
            Say($"paused at {where}");
            StopPipeline();
        });
    }

    /// <summary>The run reached its end (finished, or failed): journaled, the pipeline stopped, the entity at rest.</summary>
    void End(string state, string? detail)
    {
        if (!control.ShouldRun && control.State != RunStates.Pausing) return;   // already at rest (a late report)
        Persist(new RunStateChanged(state, detail, DateTimeOffset.UtcNow), e =>
        {
            Apply(e);
            progress = null;   // the run's last phase is over: status says "done" (or the failure) from now on
            halted = null;
            if (detail is not null) Say($"failed: {detail}");
            StopPipeline();
        });
    }

    void Apply(IControlEvent e) => control = control.Apply(e);

    void StartPipeline(string why)
    {
        try
        {
            folder.CreateLayout();
            folderLock ??= FolderLock.Acquire(folder);
            var stale = AtomicFile.RemoveStale(folder.Root);
            logFile ??= Context.ActorOf(LogFileActor.Props(folder.LogPath, subscribe: false), "log");
            if (stale > 0) Say($"removed {stale} half-written file(s) left by an interrupted run");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ExperimentLockedException)
        {
            Self.Tell(new ExperimentFailed($"{folder.Root}: {e.Message}"));
            return;
        }
        var target = new JournalTarget(JournalTarget.PersistenceIdOf(id), journalName);
        pipeline = Context.ActorOf(PipelineSupervisor.Props(props, actors => ExperimentActor.Props(folder, actors, target), Self,
                                                            localWorkers: false),
                                   $"pipeline-{++generation}");
        Context.Watch(pipeline);
        workersFor = null;
        pipeline.Tell(GetPipelineActors.Instance);
        Context.SetReceiveTimeout(null);
        progress = null; halted = null;
        Say($"{why} on {NodeAddress}");
        pipeline.Tell(new RunExperiment(control.Config! with { Exp = folder.Root }));
    }

    void StopPipeline()
    {
        if (pipeline is null) { Rest(); return; }
        Context.Stop(pipeline);   // its actors stop; the lock is released once they have (PipelineGone)
    }

    void PipelineGone()
    {
        pipeline = null;
        workersFor = null;
        progress = null;
        folderLock?.Dispose();
        folderLock = null;
        if (control.ShouldRun) Self.Tell(new ExperimentFailed("the experiment's actors stopped unexpectedly"));
        else Rest();
    }

    /// <summary>Nothing runs: passivate unless asked something within <see cref="IdleAfter"/>.</summary>
    void Rest() => Context.SetReceiveTimeout(IdleAfter);

    void OnLog(ExperimentLog l)
    {
        if (l.Text.StartsWith("epoch ", StringComparison.Ordinal) && l.Text.Contains("ConvNet loss")) lastMetrics = l.Text;
        logFile?.Tell(l);
    }

    void Say(string text)
    {
        log.Info("experiment {0}: {1}", id, text);
        logFile?.Tell(new ExperimentLog(text));
    }

    static string Name(Phase p) => p.ToString().ToLowerInvariant();

    string NodeAddress => ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

    ExperimentStatusView View()
    {
        var state = control.State == RunStates.Running && pipeline is not null && progress is null && halted is null && lastMetrics is null
            ? RunStates.Starting : control.State;
        // metrics.jsonl is read only when what the run reported does not say it (after a restart, at rest), not per poll.
        IReadOnlyList<EpochMetrics>? metrics = null;
        IReadOnlyList<EpochMetrics> Metrics() => metrics ??= SafeMetrics();
        if (lastMetrics is null && Metrics() is [.., var last]) lastMetrics = Describe(last);
        var epoch = progress?.Epoch ?? halted?.Epoch ?? (Metrics() is [.., var done] ? done.Epoch + 1 : control.Config!.StartEpoch);
        var phase = progress?.Phase.ToString().ToLowerInvariant() ?? halted?.Phase.ToString().ToLowerInvariant()
                    ?? (control.State == RunStates.Finished ? "done" : "");
        // Where each phase of this epoch ran; sampling and training always run on the experiment's node.
        var nodes = pipeline is null ? new Dictionary<string, string>() : new Dictionary<string, string>(phaseNodes)
        {
            ["sampling"] = NodeAddress, ["training"] = NodeAddress,
        };
        return new ExperimentStatusView(id, state, epoch, control.Config!.Epochs, phase, progress?.Done ?? 0, progress?.Total ?? 0,
            progress?.Rate ?? 0, progress?.Unit, lastMetrics, nodes, folder.Root,
            control.State == RunStates.Failed ? control.Detail : null, control.Submitted);
    }

    IReadOnlyList<EpochMetrics> SafeMetrics()
    {
        try { return folder.ReadMetrics(); }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { return []; }
    }

    static string Describe(EpochMetrics m) => FormattableString.Invariant(
        $"epoch {m.Epoch}: {m.EpochSeconds:F1} s, clustering loss {m.ClusteringLoss:F3}, ConvNet loss {m.ConvnetLoss:F3}");

    protected override void PostStop()
    {
        folderLock?.Dispose();
        base.PostStop();
    }
}

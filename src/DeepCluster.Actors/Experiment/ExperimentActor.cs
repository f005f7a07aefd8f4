using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Progress;
using DeepCluster.Actors.Sampling;
using DeepCluster.Actors.Training;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Metrics;
using DeepCluster.Core.Training;

namespace DeepCluster.Actors.Experiment;

/// <summary>Runs (or continues) the experiment with this configuration.</summary>
public sealed record RunExperiment(TrainConfig Config);

/// <summary>Published when every epoch is done.</summary>
public sealed record ExperimentCompleted(int Epochs, string Folder);

/// <summary>Published when a phase failed; the durable state stays at the last durable point.</summary>
public sealed record ExperimentFailed(string Error);

/// <summary>
/// Pause at the next safe point: the phase running now ends (training writes an iteration checkpoint at its next
/// batch), nothing further starts, and the experiment answers <see cref="ExperimentHalted"/>. Sending
/// <see cref="RunExperiment"/> again continues from there.
/// </summary>
public sealed record HaltExperiment
{
    public static HaltExperiment Instance { get; } = new();
}

/// <summary>The experiment stopped at a safe point (after <see cref="HaltExperiment"/>): epoch, phase and, inside training, the iteration.</summary>
public sealed record ExperimentHalted(int Epoch, Phase Phase, int? Iteration);

/// <summary>The actors the experiment drives; <paramref name="Batches"/>: the trainer's batch source when loader workers
/// may make its batches (<see cref="DataLoading.DistributedLoaderActor"/>, in a host), else null.</summary>
public sealed record PipelineActors(IActorRef FeatureExtractor, IActorRef Clustering, IActorRef Sampler, IActorRef Trainer,
                                    IActorRef? Batches = null);

/// <summary>
/// Owns the run: configuration, current epoch and phase, durable artefacts, metrics — persisted with
/// Akka.Persistence (SQLite journal in the experiment folder, or PostgreSQL) at every phase boundary and iteration
/// checkpoint.
/// Drives each epoch: features → clustering → pseudo-labels → training → checkpoint; after a crash it continues
/// from the last durable point. Nothing is journaled before the first model is saved, so a start that fails leaves
/// no experiment behind; every journaled file is checked (size, checksum) before it is used or reported done, and a
/// damaged intermediate file sends the epoch back to the phase that makes it.
/// </summary>
public sealed class ExperimentActor : ReceivePersistentActor
{
    readonly ExperimentFolder folder;
    readonly JournalTarget journal;
    readonly PipelineActors actors;
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly ExperimentOutputs outputs;
    readonly IActorRef reporter;
    ExperimentState state = new();
    TrainConfig? pending;       // a new experiment's configuration: journaled once its first model is saved
    Stopwatch? epochClock;
    bool failed, halting;

    /// <summary><c>experiment-ID</c> (the folder's <c>experiment.id</c>), so that experiments can share one journal.</summary>
    public override string PersistenceId => journal.PersistenceId;

    public ExperimentActor(ExperimentFolder folder, PipelineActors actors, JournalTarget? journal = null)
    {
        this.folder = folder;
        this.journal = journal ?? JournalTarget.Legacy(folder);
        this.actors = actors;
        outputs = new ExperimentOutputs(folder, log, Say);
        reporter = Context.ActorOf(ReportActor.Props(folder).WithDispatcher(Hosting.PipelineSupervisor.ComputeDispatcher), "report");

        Recover<SnapshotOffer>(o => { if (o.Snapshot is ExperimentState s) state = s; });
        Recover<IExperimentEvent>(e => state = state.Apply(e));

        Command<RunExperiment>(Run);
        Command<HaltExperiment>(_ => Halt());
        Command<TrainingPaused>(p => state.Phase == Phase.Training && p.Epoch == state.Epoch, _ => Continue());
        // What the pipeline actors report about the work they do for this experiment goes up the tree with its own.
        Command<PhaseProgress>(Report);
        Command<ExperimentLog>(Report);
        Command<ModelInitialized>(OnModelInitialized);
        Command<FeaturesExtracted>(f => state.Phase == Phase.Features, OnFeatures);
        Command<FeatureRangeWritten>(r => state.Phase == Phase.Features && r.Epoch == state.Epoch, OnFeatureRange);
        Command<FeaturesClustered>(c => state.Phase == Phase.Clustering, OnClustered);
        Command<PseudoLabelsSampled>(s => state.Phase == Phase.Sampling, OnSampled);
        Command<IterationCheckpointed>(c => state.Phase == Phase.Training, OnCheckpointed);
        Command<EpochTrained>(t => state.Phase == Phase.Training, OnTrained);
        Command<FeaturesFailed>(f => Fail($"feature pass of epoch {f.Epoch}: {f.Error}"));
        Command<ClusteringFailed>(f => Fail($"clustering of epoch {f.Epoch}: {f.Error}"));
        Command<SamplingFailed>(f => Fail($"sampling of epoch {f.Epoch}: {f.Error}"));
        Command<TrainingFailed>(f => Fail(f.Epoch < 0 ? $"model: {f.Error}" : $"training of epoch {f.Epoch}: {f.Error}"));
        // A pipeline actor threw (its supervisor restarted it): the phase's work is lost, end the run rather than wait.
        Command<Hosting.PipelineActorFailed>(f => Fail((state.Model is null ? "model initialisation"
            : $"{state.Phase.ToString().ToLowerInvariant()} of epoch {state.Epoch}") + $": the {f.Actor} actor failed: {f.Error}"));
        Command<ReportFlushed>(_ => Completed());
        Command<ReportNotFlushed>(_ =>
        {
            Say($"{folder.ReportPath}: still being drawn after {ReportWait.TotalSeconds:F0} s; not waited for");
            Completed();
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => log.Warning("snapshot not saved: {0}", f.Cause.Message));
    }

    /// <param name="journal">The persistence id and the journal's name; null: the fixed id of folders made before ids.</param>
    public static Akka.Actor.Props Props(ExperimentFolder folder, PipelineActors actors, JournalTarget? journal = null) =>
        Akka.Actor.Props.Create(() => new ExperimentActor(folder, actors, journal));

    void Run(RunExperiment run)
    {
        failed = false;
        halting = false;
        if (state.Config is null)
        {
            // A new experiment: the first model is made (and --resume read) before anything is journaled.
            pending = run.Config;
            folder.CreateLayout();
            actors.Trainer.Tell(new InitializeModel(run.Config.Arch, run.Config.Sobel, run.Config.Seed, Sgd(run.Config),
                run.Config.Device, run.Config.Resume, Path.Combine(folder.WorkDir, "initial.pth.tar")), Self);
            return;
        }
        if (state.Model is null)
        {
            Fail($"{journal.Name}: written by an older deepcluster (no file sizes and checksums); finish it with that " +
                 "version, or start over with --restart.");
            return;
        }
        var refused = state.Config.ResultDifferences(run.Config);
        if (refused.Count > 0) { Fail(folder.MismatchMessage(refused)); return; }
        Say($"resuming {folder.Root} at epoch {state.Epoch}, phase {state.Phase.ToString().ToLowerInvariant()}" +
            (state.LastCheckpoint is { } c ? $" (iteration {c.Iteration})" : ""));
        var changes = state.Config.Settings().ChangesTo(run.Config.Settings());
        if (changes.Count == 0) { Resume(); return; }
        Persist(new RunSettingsChanged(run.Config.Settings()), e =>
        {
            state = state.Apply(e);
            Say("applied: " + string.Join(", ", changes));
            Resume();
        });
    }

    void Resume()
    {
        WriteConfig();
        outputs.Sync(state);
        Continue();
    }

    void OnModelInitialized(ModelInitialized m)
    {
        if (pending is not { } cfg || Record(m.Path) is not { } model) return;
        pending = null;
        // The folder's own path is not journaled (a moved folder is the same experiment): "." stands for it.
        Persist(new ExperimentCreated(cfg with { Exp = "." }, model, m.ResumedEpoch ?? cfg.StartEpoch), e =>
        {
            state = state.Apply(e);
            WriteConfig();
            Continue();
        });
    }

    /// <summary>config.json always says what runs: the journaled configuration, in this folder.</summary>
    void WriteConfig() => folder.WriteConfig(state.Config! with { Exp = folder.Root });

    void Save(IExperimentEvent e) => Persist(e, ev => { state = state.Apply(ev); Continue(); });

    /// <summary>Sends the work of the current phase to the actor that does it, once its input files are intact.</summary>
    void Continue()
    {
        if (failed) return;
        if (state.Finished) { Finish(); return; }
        if (halting) { Report(new ExperimentHalted(state.Epoch, state.Phase, state.LastCheckpoint?.Iteration)); return; }
        if (EpochInputs.Check(state, folder, state.Phase) is { } damage) { GoBack(damage, "found"); return; }
        var cfg = state.Config!;
        var epoch = state.Epoch;
        var model = folder.Resolve(state.Model!.Path);
        var dataset = new DatasetSpec(cfg.Data, cfg.DataFormat, cfg.Split, cfg.Limit, cfg.SkipBadFiles);
        switch (state.Phase)
        {
            case Phase.Features:
                epochClock = Stopwatch.StartNew();
                actors.FeatureExtractor.Tell(new ExtractFeatures(epoch, model, cfg.Arch, cfg.Sobel, dataset, cfg.Batch,
                    cfg.Workers, cfg.Device, folder.FeaturesPath(epoch), FeatureRangesDone(), cfg.Precision), Self);
                break;
            case Phase.Clustering:
                actors.Clustering.Tell(new ClusterFeatures(epoch, folder.Resolve(state.Features!.Features.Path), cfg.Clustering, cfg.NmbCluster,
                    cfg.Pca, cfg.Niter, Seeds.Clustering(cfg.Seed, epoch), cfg.Device, folder.AssignmentsPath(epoch)), Self);
                break;
            case Phase.Sampling:
                actors.Sampler.Tell(new SamplePseudoLabels(epoch, folder.Resolve(state.Clustering!.Assignments.Path), cfg.Clustering, cfg.NmbCluster, cfg.Reassign,
                    Seeds.Sampling(cfg.Seed, epoch), folder.SamplerOrderPath(epoch), folder.SamplerLabelsPath(epoch)), Self);
                break;
            case Phase.Training:
                var ck = state.LastCheckpoint;
                var s = state.Sampling!;
                actors.Trainer.Tell(new TrainEpoch(epoch, cfg.Arch, cfg.Sobel, Sgd(cfg), cfg.Device, dataset, cfg.Batch, cfg.Workers,
                    cfg.Seed, folder.Resolve(s.Order.Path), folder.Resolve(s.Labels.Path), s.Clusters,
                    ck is null ? model : folder.Resolve(ck.Checkpoint.Path), ck?.Iteration ?? 0, ck?.LossSum ?? 0, ck?.LossCount ?? 0,
                    cfg.Checkpoints, folder.CheckpointsDir, folder.EpochModelPath(epoch), FromCheckpoint: ck is not null,
                    Precision: cfg.Precision), Self);
                break;
        }
    }

    /// <summary>
    /// Pause at the next safe point. Training is asked to checkpoint at its next batch; any other phase runs to its end
    /// (its result is journaled, then <see cref="Continue"/> stops). Before the experiment exists (its first model is
    /// being made), the pause takes effect once it does; a failed run is already at rest.
    /// </summary>
    void Halt()
    {
        halting = true;
        if (failed) Report(new ExperimentHalted(state.Epoch, state.Phase, state.LastCheckpoint?.Iteration));
        else if (state.Started && state.Phase == Phase.Training && !state.Finished) actors.Trainer.Tell(new PauseTraining(state.Epoch), Self);
        else if (state.Finished) Finish();
    }

    /// <summary>
    /// A damaged or missing input: the epoch goes back to the phase that makes it (journaled), or, for the model the
    /// epoch starts from, it is restored from an intact copy; without one the run fails naming the file.
    /// </summary>
    void GoBack(Damage d, string when)
    {
        var path = folder.Resolve(d.File.Path);
        if (d.MadeBy is not { } phase)
        {
            if (RestoreModel(d.File)) { Continue(); return; }
            Fail($"{path}: damaged ({d.Problem}); it is the model epoch {state.Epoch} starts from and this folder holds no " +
                 "intact copy of it. Start over with --restart, or use another --exp folder.");
            return;
        }
        var reason = $"{d.File.Path} {when} damaged ({d.Problem})";
        Persist(new PhaseRewound(state.Epoch, phase, reason), e =>
        {
            state = state.Apply(e);
            Say($"{path}: {d.Problem}; epoch {state.Epoch} goes back to {Describe(phase)}");
            log.Warning("{0}; back to {1}", reason, phase);
            Continue();
        });
    }

    static string Describe(Phase p) => p switch
    {
        Phase.Features => "the feature pass",
        Phase.Clustering => "clustering",
        Phase.Sampling => "sampling",
        _ => "training from its first iteration",
    };

    /// <summary>The model of a finished epoch is also published as checkpoint.pth.tar: an intact copy restores it.</summary>
    bool RestoreModel(Artifact model)
    {
        if (state.Completed.Count == 0 || model.ProblemAt(folder.CheckpointPath) is not null) return false;
        AtomicFile.Publish(folder.CheckpointPath, folder.Resolve(model.Path), hardLink: false);
        Say($"{folder.Resolve(model.Path)}: damaged; restored from {folder.CheckpointPath}");
        return true;
    }

    /// <summary>
    /// The inputs of the phase that just reported were checked before it started; checked again now, so that a result
    /// made from a file damaged meanwhile is not journaled. True when the epoch went back.
    /// </summary>
    bool DamagedMeanwhile(Phase phase)
    {
        if (EpochInputs.Check(state, folder, phase) is not { } damage) return false;
        GoBack(damage, "was");
        return true;
    }

    /// <summary>The artifact of a file a phase just wrote; null (and the run fails) when it cannot be read back.</summary>
    Artifact? Record(string path)
    {
        try { return Artifact.Of(folder, path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"{path}: could not be read back ({e.Message})");
            return null;
        }
    }

    void OnFeatures(FeaturesExtracted f)
    {
        if (Record(f.Path) is not { } features) return;
        Artifact? labels = null;
        if (f.TrueLabelsPath is { } lp && (labels = Record(lp)) is null) return;
        Save(new FeaturesDone(f.Epoch, features, labels, f.Seconds));
    }

    /// <summary>A range of the feature pass is written: journaled (no reply), so a resumed epoch does not compute it again.</summary>
    void OnFeatureRange(FeatureRangeWritten w)
    {
        var r = w.Range;
        Persist(new FeatureRangeDone(w.Epoch, r.Start, r.Count, new Artifact(folder.Relative(r.Path), r.Size, r.Hash)),
                e => state = state.Apply(e));
    }

    /// <summary>The ranges of this epoch's feature pass journaled so far, for the feature pass to reuse.</summary>
    FeatureRangeFile[] FeatureRangesDone() =>
        (state.FeatureRanges ?? []).Where(r => r.Epoch == state.Epoch)
            .Select(r => new FeatureRangeFile(r.Start, r.Count, folder.Resolve(r.File.Path), r.File.Size, r.File.Hash)).ToArray();

    void OnClustered(FeaturesClustered c)
    {
        if (DamagedMeanwhile(Phase.Clustering) || Record(c.AssignmentsPath) is not { } assignments) return;
        double? nmiPrev = null, nmiLabels = null;
        try
        {
            var current = NpyFile.ReadInt64(c.AssignmentsPath);
            if (outputs.ReadIfIntact(state.PreviousAssignments) is { } prev) nmiPrev = NormalizedMutualInfo.Score(current, prev);
            if (outputs.ReadIfIntact(state.Features?.TrueLabels) is { } labels) nmiLabels = NormalizedMutualInfo.Score(labels, current);
        }
        catch (Exception e) { log.Warning("NMI not computed: {0}", e.Message); }
        Save(new ClusteringDone(c.Epoch, assignments, c.Loss, c.NonEmpty, c.Seconds, nmiPrev, nmiLabels));
    }

    void OnSampled(PseudoLabelsSampled s)
    {
        if (DamagedMeanwhile(Phase.Sampling) || Record(s.OrderPath) is not { } order || Record(s.LabelsPath) is not { } labels) return;
        Save(new SamplingDone(s.Epoch, order, labels, s.Count, s.Clusters));
    }

    void OnCheckpointed(IterationCheckpointed c)
    {
        if (Record(c.Path) is not { } checkpoint) return;
        Persist(new TrainingCheckpointed(c.Epoch, c.Iteration, checkpoint, c.LossSum, c.LossCount), e => state = state.Apply(e));
    }

    void OnTrained(EpochTrained t)
    {
        if (Record(t.ModelPath) is not { } model) return;
        var f = state.Features!; var c = state.Clustering!;
        var phases = f.Seconds + c.Seconds + t.Seconds;
        var metrics = new EpochMetrics
        {
            Epoch = t.Epoch,
            EpochSeconds = epochClock is { } clock && state.LastCheckpoint is null ? clock.Elapsed.TotalSeconds : phases,
            FeaturesSeconds = f.Seconds,
            ClusteringSeconds = c.Seconds,
            TrainingSeconds = t.Seconds,
            TrainImagesPerSecond = t.ImagesPerSecond,
            ClusteringLoss = c.Loss,
            ConvnetLoss = t.Loss,
            NonEmptyClusters = c.NonEmpty,
            NmiPrevious = c.NmiPrevious,
            NmiLabels = c.NmiLabels,
        };
        Persist(new EpochDone(metrics, model, c.Assignments), e =>
        {
            state = state.Apply(e);
            SaveSnapshot(state);
            var clusters = outputs.Sync(state, epochJustFinished: true);
            Report(metrics);
            reporter.Tell(new RenderReport(state.Config!.Verbose, clusters));   // drawn while the next epoch runs; Finish waits for it
            Continue();
        });
    }

    /// <summary>
    /// Every epoch is done: the published checkpoint is checked (re-published if need be), and the last epoch's report
    /// written, before saying so (<c>train</c> exits on <see cref="ExperimentCompleted"/>). A report that takes longer
    /// than <see cref="ReportWait"/> is not waited for: the run is done either way.
    /// </summary>
    void Finish()
    {
        if (outputs.PublishCheckpoint(state) is { } error) { Fail(error); return; }
        reporter.Ask<ReportFlushed>(FlushReport.Instance, ReportWait).PipeTo(Self, failure: _ => ReportNotFlushed.Instance);
    }

    /// <summary>The report was not written within <see cref="ReportWait"/> of the end.</summary>
    sealed record ReportNotFlushed
    {
        public static ReportNotFlushed Instance { get; } = new();
    }

    void Completed()
    {
        if (failed || !state.Finished) return;
        Say($"done: {state.Completed.Count} epoch(s) in {folder.Root}");
        Report(new ExperimentCompleted(state.Epoch, folder.Root));
    }

    void Report(EpochMetrics m)
    {
        var line = $"epoch {m.Epoch}: {F(m.EpochSeconds, 1)} s (features {F(m.FeaturesSeconds, 1)} s, clustering {F(m.ClusteringSeconds, 1)} s, " +
                   $"training {F(m.TrainingSeconds, 1)} s, {F(m.TrainImagesPerSecond, 0)} img/s), clustering loss {F(m.ClusteringLoss, 3)}, " +
                   $"ConvNet loss {F(m.ConvnetLoss, 3)}";
        if (m.NmiPrevious is { } prev) line += $", NMI prev {F(prev, 3)}";
        if (m.NmiLabels is { } labels) line += $", NMI labels {F(labels, 3)}";
        Say(line);
        if (!state.Config!.Verbose) return;
        // The published per-epoch summary.
        Say($"###### Epoch [{m.Epoch}] ###### \n Time: {F(m.EpochSeconds, 3)} s\n Clustering loss: {F(m.ClusteringLoss, 3)} \n ConvNet loss: {F(m.ConvnetLoss, 3)}");
        if (m.NmiPrevious is { } p) Say($"NMI against previous assignment: {F(p, 3)}");
        Say("####################### \n");
    }

    static string F(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Report(new ExperimentFailed(
            $"{journal.Name}: the experiment journal could not be read ({reason.GetBaseException().Message})."));
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Report(new ExperimentFailed(
            $"{journal.Name}: could not write to the experiment journal ({cause.GetBaseException().Message})."));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    void Fail(string error)
    {
        failed = true;
        log.Error(error);
        Report(new ExperimentFailed(error));
    }

    void Say(string text) => Report(new ExperimentLog(text));

    /// <summary>
    /// What the run reports (log lines, progress, its end) goes to the parent, which owns this experiment: the
    /// <see cref="Hosting.PipelineSupervisor"/> passes it on to the console (<c>train</c>) or to the host's entity.
    /// </summary>
    void Report(object message) => Context.Parent.Tell(message);

    static readonly TimeSpan ReportWait = TimeSpan.FromMinutes(2);

    static SgdSettings Sgd(TrainConfig c) => new(c.Lr, c.Momentum, c.Wd);
}

/// <summary>Per-epoch seeds derived from <c>--seed</c>, so a resumed epoch draws the same numbers.</summary>
public static class Seeds
{
    public static long Clustering(int seed, int epoch) => (long)seed * 1_000_003 + epoch * 2 + 1;
    public static long Sampling(int seed, int epoch) => (long)seed * 1_000_003 + epoch * 2 + 2;
}

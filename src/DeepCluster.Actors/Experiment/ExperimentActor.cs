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

/// <summary>The actors the experiment drives.</summary>
public sealed record PipelineActors(IActorRef FeatureExtractor, IActorRef Clustering, IActorRef Sampler, IActorRef Trainer);

/// <summary>
/// Owns the run: configuration, current epoch and phase, durable artefacts, metrics — persisted with
/// Akka.Persistence (SQLite journal in the experiment folder) at every phase boundary and iteration checkpoint.
/// Drives each epoch: features → clustering → pseudo-labels → training → checkpoint; after a crash it continues
/// from the last durable point.
/// </summary>
public sealed class ExperimentActor : ReceivePersistentActor
{
    readonly ExperimentFolder folder;
    readonly PipelineActors actors;
    readonly ILoggingAdapter log = Context.GetLogger();
    ExperimentState state = new();
    Stopwatch? epochClock;
    bool failed;

    public override string PersistenceId => "deepcluster-experiment";

    public ExperimentActor(ExperimentFolder folder, PipelineActors actors)
    {
        this.folder = folder;
        this.actors = actors;

        Recover<SnapshotOffer>(o => { if (o.Snapshot is ExperimentState s) state = s; });
        Recover<IExperimentEvent>(e => state = state.Apply(e));

        Command<RunExperiment>(Run);
        Command<ModelInitialized>(m => Save(new ModelReady(m.Path, m.ResumedEpoch ?? state.Config!.StartEpoch)));
        Command<FeaturesExtracted>(f => Save(new FeaturesDone(f.Epoch, f.Path, f.TrueLabelsPath, f.Seconds)));
        Command<FeaturesClustered>(OnClustered);
        Command<PseudoLabelsSampled>(s => Save(new SamplingDone(s.Epoch, s.OrderPath, s.LabelsPath, s.Count, s.Clusters)));
        Command<IterationCheckpointed>(c =>
            Persist(new TrainingCheckpointed(c.Epoch, c.Iteration, c.Path, c.LossSum, c.LossCount), e => state = state.Apply(e)));
        Command<EpochTrained>(OnTrained);
        Command<FeaturesFailed>(f => Fail($"feature pass of epoch {f.Epoch}: {f.Error}"));
        Command<ClusteringFailed>(f => Fail($"clustering of epoch {f.Epoch}: {f.Error}"));
        Command<SamplingFailed>(f => Fail($"sampling of epoch {f.Epoch}: {f.Error}"));
        Command<TrainingFailed>(f => Fail(f.Epoch < 0 ? $"model: {f.Error}" : $"training of epoch {f.Epoch}: {f.Error}"));
        // A pipeline actor threw (its supervisor restarted it): the phase's work is lost, end the run rather than wait.
        Command<Hosting.PipelineActorFailed>(f => Fail((state.ModelPath is null ? "model initialisation"
            : $"{state.Phase.ToString().ToLowerInvariant()} of epoch {state.Epoch}") + $": the {f.Actor} actor failed: {f.Error}"));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => log.Warning("snapshot not saved: {0}", f.Cause.Message));
    }

    public static Akka.Actor.Props Props(ExperimentFolder folder, PipelineActors actors) =>
        Akka.Actor.Props.Create(() => new ExperimentActor(folder, actors));

    void Run(RunExperiment run)
    {
        failed = false;
        if (state.Config is null)
        {
            Persist(new ExperimentCreated(run.Config), e => { state = state.Apply(e); Continue(); });
            return;
        }
        Say(state.Started
            ? $"resuming {folder.Root} at epoch {state.Epoch}, phase {state.Phase.ToString().ToLowerInvariant()}" +
              (state.LastCheckpoint is { } c ? $" (iteration {c.Iteration})" : "")
            : $"resuming {folder.Root} before the first epoch");
        SyncOutputs();
        if (run.Config.Epochs != state.Config.Epochs)
            Persist(new EpochsChanged(run.Config.Epochs), e => { state = state.Apply(e); Continue(); });
        else Continue();
    }

    void Save(IExperimentEvent e) => Persist(e, ev => { state = state.Apply(ev); Continue(); });

    /// <summary>Sends the work of the current phase to the actor that does it.</summary>
    void Continue()
    {
        if (failed) return;
        var cfg = state.Config!;
        if (state.ModelPath is null)
        {
            Directory.CreateDirectory(folder.WorkDir);
            actors.Trainer.Tell(new InitializeModel(cfg.Arch, cfg.Sobel, cfg.Seed, Sgd(cfg), cfg.Device, cfg.Resume,
                Path.Combine(folder.WorkDir, "initial.pth.tar")), Self);
            return;
        }
        if (state.Finished)
        {
            Say($"done: {state.Completed.Count} epoch(s) in {folder.Root}");
            Context.System.EventStream.Publish(new ExperimentCompleted(state.Epoch, folder.Root));
            return;
        }
        var epoch = state.Epoch;
        var dataset = new DatasetSpec(cfg.Data, cfg.DataFormat, cfg.Split, cfg.Limit, cfg.SkipBadFiles);
        switch (state.Phase)
        {
            case Phase.Features:
                epochClock = Stopwatch.StartNew();
                actors.FeatureExtractor.Tell(new ExtractFeatures(epoch, state.ModelPath, cfg.Arch, cfg.Sobel, dataset, cfg.Batch,
                    cfg.Workers, cfg.Device, folder.FeaturesPath(epoch)), Self);
                break;
            case Phase.Clustering:
                actors.Clustering.Tell(new ClusterFeatures(epoch, state.Features!.FeaturesPath, cfg.Clustering, cfg.NmbCluster,
                    cfg.Pca, cfg.Niter, Seeds.Clustering(cfg.Seed, epoch), cfg.Device, folder.AssignmentsPath(epoch)), Self);
                break;
            case Phase.Sampling:
                actors.Sampler.Tell(new SamplePseudoLabels(epoch, state.Clustering!.AssignmentsPath, cfg.Clustering, cfg.NmbCluster, cfg.Reassign,
                    Seeds.Sampling(cfg.Seed, epoch), folder.SamplerOrderPath(epoch), folder.SamplerLabelsPath(epoch)), Self);
                break;
            case Phase.Training:
                var ck = state.LastCheckpoint;
                actors.Trainer.Tell(new TrainEpoch(epoch, cfg.Arch, cfg.Sobel, Sgd(cfg), cfg.Device, dataset, cfg.Batch, cfg.Workers,
                    cfg.Seed, state.Sampling!.OrderPath, state.Sampling.LabelsPath, state.Sampling.Clusters,
                    ck?.Path ?? state.ModelPath, ck?.Iteration ?? 0, ck?.LossSum ?? 0, ck?.LossCount ?? 0,
                    cfg.Checkpoints, folder.CheckpointsDir, folder.EpochModelPath(epoch)), Self);
                break;
        }
    }

    void OnClustered(FeaturesClustered c)
    {
        double? nmiPrev = null, nmiLabels = null;
        try
        {
            var current = NpyFile.ReadInt64(c.AssignmentsPath);
            if (state.PreviousAssignmentsPath is { } prev && File.Exists(prev))
                nmiPrev = NormalizedMutualInfo.Score(current, NpyFile.ReadInt64(prev));
            if (state.Features?.TrueLabelsPath is { } lp && File.Exists(lp))
                nmiLabels = NormalizedMutualInfo.Score(NpyFile.ReadInt64(lp), current);
        }
        catch (Exception e) { log.Warning("NMI not computed: {0}", e.Message); }
        Save(new ClusteringDone(c.Epoch, c.AssignmentsPath, c.Loss, c.NonEmpty, c.Seconds, nmiPrev, nmiLabels));
    }

    void OnTrained(EpochTrained t)
    {
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
        Persist(new EpochDone(metrics, t.ModelPath, c.AssignmentsPath), e =>
        {
            state = state.Apply(e);
            SaveSnapshot(state);
            SyncOutputs();
            Report(metrics);
            Continue();
        });
    }

    /// <summary>
    /// Brings the published outputs in line with the journal: checkpoint.pth.tar = the last finished epoch's model,
    /// clusters = one entry per finished epoch, metrics.jsonl = one line per finished epoch. Idempotent, so a crash
    /// between the journal write and these files is repaired on the next start.
    /// </summary>
    void SyncOutputs()
    {
        try
        {
            folder.WriteMetrics(state.Completed);
            if (state.Completed.Count == 0 || state.ModelPath is null || !File.Exists(state.ModelPath)) return;
            if (!IsCopyOf(folder.CheckpointPath, state.ModelPath))
                AtomicFile.Publish(state.ModelPath, folder.CheckpointPath);   // a hard link where possible
            folder.PruneWork(state.Epoch - 1);                // keeps the previous epoch: its assignments are needed below
            var log = File.Exists(folder.ClustersPath) ? ClustersLog.Read(folder.ClustersPath).ToList() : [];
            var finished = state.Completed.Count;
            if (log.Count == finished) return;                 // already in step with the journal
            if (log.Count > finished) log = log.Take(finished).ToList();
            else if (log.Count == finished - 1 && state.PreviousAssignmentsPath is { } a && File.Exists(a))
            {
                var assignments = NpyFile.ReadInt64(a);
                log.Add(ClusterLists.FromAssignments(assignments, ClusteringRunner.ListCount(state.Config!.Clustering, state.Config.NmbCluster, assignments))
                    .Select(l => l.ToArray()).ToArray());
            }
            else this.log.Warning("{0}: {1} epoch(s) logged for {2} finished; not rebuilt", folder.ClustersPath, log.Count, finished);
            ClustersLog.Write(folder.ClustersPath, log.Select(ep => (IReadOnlyList<IReadOnlyList<int>>)ep.Select(l => (IReadOnlyList<int>)l).ToList()).ToList());
        }
        catch (Exception e) { log.Warning("outputs not synchronised: {0}", e.Message); }
    }

    /// <summary>
    /// The copy (or hard link) was made after the source was written (the epoch models are written once, under names
    /// of their own) and has its length: a restart need not publish a large checkpoint again.
    /// </summary>
    static bool IsCopyOf(string copy, string source) =>
        File.Exists(copy) && new FileInfo(copy).Length == new FileInfo(source).Length &&
        File.GetLastWriteTimeUtc(copy) >= File.GetLastWriteTimeUtc(source);

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
        Context.System.EventStream.Publish(new ExperimentFailed(
            $"{folder.JournalPath}: the experiment journal could not be read ({reason.GetBaseException().Message})."));
        base.OnRecoveryFailure(reason, message);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Context.System.EventStream.Publish(new ExperimentFailed(
            $"{folder.JournalPath}: could not write to the experiment journal ({cause.GetBaseException().Message})."));
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    void Fail(string error)
    {
        failed = true;
        log.Error(error);
        Context.System.EventStream.Publish(new ExperimentFailed(error));
    }

    void Say(string text) => Context.System.EventStream.Publish(new ExperimentLog(text));

    static SgdSettings Sgd(TrainConfig c) => new(c.Lr, c.Momentum, c.Wd);
}

/// <summary>Per-epoch seeds derived from <c>--seed</c>, so a resumed epoch draws the same numbers.</summary>
public static class Seeds
{
    public static long Clustering(int seed, int epoch) => (long)seed * 1_000_003 + epoch * 2 + 1;
    public static long Sampling(int seed, int epoch) => (long)seed * 1_000_003 + epoch * 2 + 2;
}

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.Features;

/// <summary>
/// The feature pass, spread over workers (<see cref="FeatureWorkerActor"/>, on this node or others): splits the dataset
/// into index ranges (<c>deepcluster.features.range-images</c>, whole batches), gives each idle worker a range, tells the
/// experiment each finished range (<see cref="FeatureRangeWritten"/>, which it journals), and when every range is in,
/// joins the range files into the features file and the labels file — the same files a single pass writes — and
/// answers <see cref="FeaturesExtracted"/>. Workers are watched: a worker that stops, or restarts, with a range gives
/// that range back to the queue and another worker computes it, so every row is computed exactly once in the end.
/// A resumed epoch (<see cref="ExtractFeatures.Done"/>) computes only the ranges not journaled intact.
/// </summary>
public sealed class FeaturePassActor : ReceiveActor
{
    sealed class Job(ExtractFeatures request, IActorRef requester)
    {
        public ExtractFeatures Request { get; } = request;
        public IActorRef Requester { get; } = requester;
        public string Id { get; } = Guid.NewGuid().ToString("N");
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public int Count = -1;                   // images; -1 until the loader said
        public int[]? Labels;
        public readonly LinkedList<(int Start, int Count)> Pending = new();
        public readonly SortedDictionary<int, FeatureRangeFile> Done = new();
        public readonly Dictionary<IActorRef, (int Start, int Count, int Rows)> Busy = new();
        public int Rows, Computed, Skipped, Reused;   // rows in finished ranges; of those computed by this job; skipped images
        public bool Waiting;                          // said that no worker is there
    }

    readonly IActorRef loader;
    readonly int rangeImages;
    readonly ILoggingAdapter log = Context.GetLogger();
    readonly HashSet<IActorRef> workers = new();
    Job? job;

    /// <param name="loader">The data loader of this node: says how many images the dataset has, and their labels.</param>
    public FeaturePassActor(IActorRef loader)
    {
        this.loader = loader;
        rangeImages = Hosting.DeepClusterSettings.Of(Context.System).RangeImages;
        Receive<ExtractFeatures>(Start);
        Receive<DatasetDescribed>(d => job?.Id == d.RequestId, Plan);
        Receive<DatasetUnavailable>(d => job?.Id == d.RequestId, d => Fail(d.Error));
        Receive<WorkerAvailable>(OnWorker);
        Receive<Terminated>(t => Lost(t.ActorRef, "stopped"));
        Receive<RangeProgress>(OnProgress);
        Receive<RangeComputed>(OnComputed);
        Receive<RangeFailed>(OnFailed);
    }

    public static Props Props(IActorRef loader) => Akka.Actor.Props.Create(() => new FeaturePassActor(loader));

    void Start(ExtractFeatures msg)
    {
        End();
        job = new Job(msg, Sender);
        loader.Tell(new DescribeDataset(job.Id, msg.Dataset));
    }

    void Plan(DatasetDescribed d)
    {
        var j = job!;
        j.Count = d.Count;
        j.Labels = d.TrueLabels;
        var reused = FeatureRanges.Usable(j.Request.Done ?? [], d.Count, r => new Artifact(r.Path, r.Size, r.Hash).ProblemAt(r.Path));
        foreach (var r in reused) j.Done[r.Start] = r;
        j.Rows = j.Reused = reused.Sum(r => r.Count);
        if (reused.Count > 0)
            Say($"epoch {j.Request.Epoch}: features of {j.Reused} image(s) in {reused.Count} range(s) were computed before the interruption; reused");
        var size = FeatureRanges.Size(rangeImages, j.Request.BatchSize);
        foreach (var r in FeatureRanges.Plan(d.Count, size, reused.Select(r => (r.Start, r.Count)))) j.Pending.AddLast(r);
        Dispatch();
    }

    void OnWorker(WorkerAvailable w)
    {
        if (workers.Add(w.Worker)) Context.Watch(w.Worker);
        else if (w.Started) Lost(w.Worker, "restarted");    // started again: it lost whatever it was doing
        Dispatch();
    }

    /// <summary>A worker stopped or restarted: a range it had goes back to the queue, first in line.</summary>
    void Lost(IActorRef worker, string how)
    {
        if (how == "stopped") workers.Remove(worker);
        if (job is not { } j || !j.Busy.Remove(worker, out var r)) return;
        j.Pending.AddFirst((r.Start, r.Count));
        log.Warning("feature worker {0} {1} during images {2}..{3}; another worker computes them", worker.Path, how, r.Start, r.Start + r.Count - 1);
        Say($"epoch {j.Request.Epoch}: a feature worker {how} during images {r.Start}..{r.Start + r.Count - 1}; they go to another worker");
        Publish(j);
        Dispatch();
    }

    /// <summary>Gives each idle worker a range; joins the files once none is left.</summary>
    void Dispatch()
    {
        if (job is not { Count: >= 0 } j) return;
        if (j.Pending.Count == 0 && j.Busy.Count == 0) { Assemble(j); return; }
        foreach (var w in workers)
        {
            if (j.Pending.Count == 0) break;
            if (j.Busy.ContainsKey(w)) continue;
            var (start, count) = j.Pending.First!.Value;
            j.Pending.RemoveFirst();
            j.Busy[w] = (start, count, 0);
            var q = j.Request;
            w.Tell(new AssignRange(j.Id, q.Epoch, q.ModelPath, q.Arch, q.Sobel, q.Dataset, q.BatchSize, q.Workers, q.Device,
                start, count, RangePath(q.OutPath, start, count), q.Precision));
        }
        if (j.Busy.Count == 0 && !j.Waiting)
        {
            j.Waiting = true;
            Say($"epoch {j.Request.Epoch}: the feature pass waits for a feature worker (none is running)");
        }
        else if (j.Busy.Count > 0) j.Waiting = false;
    }

    /// <summary>Where the rows of one range are written: next to the features file, named by the range.</summary>
    public static string RangePath(string outPath, int start, int count) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, $"{Path.GetFileNameWithoutExtension(outPath)}.range-{start:D10}-{count}.npy");

    /// <summary>Whether <paramref name="worker"/> is computing range <paramref name="start"/> of the current job.</summary>
    bool Owns(IActorRef worker, string jobId, int start) =>
        job is { } j && j.Id == jobId && j.Busy.TryGetValue(worker, out var r) && r.Start == start;

    void OnProgress(RangeProgress p)
    {
        if (!Owns(Sender, p.JobId, p.Start)) return;
        var j = job!;
        var r = j.Busy[Sender];
        j.Busy[Sender] = r with { Rows = p.Rows };
        Publish(j);
    }

    void OnComputed(RangeComputed c)
    {
        if (!Owns(Sender, c.JobId, c.File.Start)) return;
        var j = job!;
        var r = j.Busy[Sender];
        j.Busy.Remove(Sender);
        if (c.File.Count != r.Count) { Fail($"{c.File.Path}: {c.File.Count} rows for a range of {r.Count}"); return; }
        j.Done[c.File.Start] = c.File;
        j.Rows += c.File.Count;
        j.Computed += c.File.Count;
        j.Skipped += c.Skipped;
        j.Requester.Tell(new FeatureRangeWritten(j.Request.Epoch, c.File));
        Publish(j);
        Dispatch();
    }

    void OnFailed(RangeFailed f)
    {
        if (Owns(Sender, f.JobId, f.Start)) Fail(f.Error);
    }

    void Publish(Job j)
    {
        var rows = j.Rows + j.Busy.Values.Sum(r => r.Rows);
        j.Requester.Tell(new PhaseProgress(j.Request.Epoch, Phase.Features, rows, j.Count,
            (rows - j.Reused) / Math.Max(1e-9, j.Clock.Elapsed.TotalSeconds), "img",
            Nodes: PhaseProgress.NodesOf(j.Busy.Keys, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress)));
    }

    void Assemble(Job j)
    {
        try
        {
            var q = j.Request;
            var dim = FeatureAssembly.Write(q.OutPath, j.Done.Values.ToList(), j.Count);
            if (j.Skipped > 0)
                Say($"epoch {q.Epoch}: {j.Skipped} unreadable image(s) skipped; their feature rows hold their batch's mean");
            string? labelsPath = null;
            if (j.Labels is { } labels && labels.Length == j.Count)
            {
                labelsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(q.OutPath))!, "true_labels.npy");
                NpyFile.WriteInt64(labelsPath, labels.Select(l => (long)l).ToArray());
            }
            // The range files are no longer needed (a crash before the experiment journals the features only makes the
            // resumed epoch compute them again).
            foreach (var r in j.Done.Values)
                try { File.Delete(r.Path); } catch (IOException) { /* left behind: harmless */ }
            j.Requester.Tell(new FeaturesExtracted(q.Epoch, q.OutPath, j.Count, dim, j.Clock.Elapsed.TotalSeconds, labelsPath));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException)
        {
            Fail(e.Message);
            return;
        }
        End();
    }

    void Fail(string error)
    {
        log.Error("feature pass failed: {0}", error);
        if (job is { } j) j.Requester.Tell(new FeaturesFailed(j.Request.Epoch, error));
        End();
    }

    /// <summary>Ends the current job, if any: its workers drop its ranges and free its model.</summary>
    void End()
    {
        if (job is not { } j) return;
        foreach (var w in workers) w.Tell(new ReleaseJob(j.Id));
        job = null;
    }

    /// <summary>A line for the experiment's log: to the experiment running the pass, which reports it up its tree.</summary>
    void Say(string text) => job?.Requester.Tell(new ExperimentLog(text));

    /// <summary>A restart keeps the workers: they are announced again to the new instance (the job itself is lost).</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        End();
        foreach (var w in workers) Self.Tell(new WorkerAvailable(w, Started: false));
        base.PreRestart(reason, message);
    }
}

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Clustering;

/// <summary>
/// The clustering phase, k-means spread over workers (<see cref="KMeansWorkerActor"/>, on this node or others) the way
/// DeepCluster-v2 distributes it: the rows of the features file are split into one range per worker; the PCA is fitted
/// from the ranges' statistics (Σx, XᵀX), so no node ever holds the N×D matrix, only its N/W×P projected rows; each
/// iteration the centroids go out, every range answers with its per-cluster sums and counts, and the reduce (new
/// centroids, faiss's empty-cluster splitting) is done here, in range order. Same steps and seeds as
/// <see cref="ClusteringRunner"/>, so the assignments equal single-node clustering within float tolerance (exactly,
/// with one worker). Takes <see cref="ClusterFeatures"/> and answers <see cref="FeaturesClustered"/> /
/// <see cref="ClusteringFailed"/> as <see cref="ClusteringActor"/> does; PIC, and k-means when no worker has announced
/// itself, run in-process in a <see cref="ClusteringActor"/> child. A worker lost during a job fails the clustering
/// (the experiment runs it again when it resumes): its rows are gone with it.
/// </summary>
public sealed class KMeansCoordinatorActor : ReceiveActor
{
    enum Step { Loading, Projecting, Gathering, Iterating, Assigning }

    sealed record Part(IActorRef Worker, long Start, long Count);

    sealed class Job(ClusterFeatures request, IActorRef requester, string dir) : IDisposable
    {
        public ClusterFeatures Request { get; } = request;
        public IActorRef Requester { get; } = requester;
        public string Id { get; } = Guid.NewGuid().ToString("N");
        public string Dir { get; } = dir;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public List<Part> Parts { get; } = new();
        public HashSet<long> Waiting { get; } = new();
        public Dictionary<long, (double Objective, long Points)> Stepped { get; } = new();
        public List<double> Objectives { get; } = new();
        public Step Step;
        public long Rows;
        public int Iteration;
        public double PreprocessSeconds;
        public Tensor? Centroids;
        public string File(string name) => Path.Combine(Dir, name);
        public void Dispose() => Centroids?.Dispose();
    }

    readonly ILoggingAdapter log = Context.GetLogger();
    readonly HashSet<IActorRef> workers = new();
    readonly IActorRef local;
    Job? job;

    public KMeansCoordinatorActor()
    {
        local = Context.ActorOf(ClusteringActor.Props().WithDispatcher(Context.Props.Dispatcher), "in-process");
        Receive<ClusterFeatures>(Start);
        Receive<KMeansWorkerAvailable>(w => { if (workers.Add(w.Worker)) Context.Watch(w.Worker); });
        Receive<Terminated>(t =>
        {
            workers.Remove(t.ActorRef);
            if (job is { } j && j.Parts.Any(p => p.Worker.Equals(t.ActorRef))) Restart(j, t.ActorRef);
        });
        Receive<KMeansRangeLoaded>(m => Mine(m.JobId, Step.Loading, m.Start), m => Arrived(m.Start));
        Receive<KMeansRangeProjected>(m => Mine(m.JobId, Step.Projecting, m.Start), m => Arrived(m.Start));
        Receive<KMeansRowsGathered>(m => Mine(m.JobId, Step.Gathering, m.Start), m => Arrived(m.Start));
        Receive<KMeansStepped>(m => Mine(m.JobId, Step.Iterating, m.Start) && m.Iteration == job!.Iteration, m =>
        {
            job!.Stepped[m.Start] = (m.Objective, m.Points);
            Arrived(m.Start);
        });
        Receive<KMeansAssigned>(m => Mine(m.JobId, Step.Assigning, m.Start), m =>
        {
            job!.Stepped[m.Start] = (m.Objective, 0);
            Arrived(m.Start);
        });
        Receive<KMeansWorkFailed>(m => job?.Id == m.JobId, m => Fail(m.Error));
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new KMeansCoordinatorActor());

    bool Mine(string jobId, Step step, long start) => job is { } j && j.Id == jobId && j.Step == step && j.Waiting.Contains(start);

    void Start(ClusterFeatures msg)
    {
        End();
        if (msg.Method != "Kmeans" || workers.Count == 0) { local.Forward(msg); return; }
        var dir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(msg.AssignmentsPath))!, $"kmeans-{Guid.NewGuid():N}");
        job = new Job(msg, Sender, dir);
        Guard(() =>
        {
            var file = new NpyRowChunks(msg.FeaturesPath);
            if (msg.K <= 0 || msg.K > file.Rows)
                throw new ArgumentException($"k = {msg.K}: must be between 1 and the number of points ({file.Rows}).");
            Directory.CreateDirectory(dir);
            var j = job;
            j.Rows = file.Rows;
            var w = (int)Math.Min(workers.Count, file.Rows);
            var chosen = workers.Take(w).ToList();
            for (var i = 0; i < w; i++)
            {
                long start = file.Rows * i / w, end = file.Rows * (i + 1) / w;
                j.Parts.Add(new Part(chosen[i], start, end - start));
            }
            j.Requester.Tell(new PhaseProgress(msg.Epoch, Phase.Clustering, 0, msg.Niter, 0, "it",
                $"PCA-whitening {file.Rows}×{file.Cols} features to {msg.Pca} dims over {w} worker(s)…"));
            Send(Step.Loading, p => new KMeansLoadRange(j.Id, msg.FeaturesPath, p.Start, p.Count, j.File($"stats-{p.Start}.npy")));
        });
    }

    void Send(Step step, Func<Part, object> message)
    {
        var j = job!;
        j.Step = step;
        foreach (var p in j.Parts)
        {
            j.Waiting.Add(p.Start);
            p.Worker.Tell(message(p));
        }
    }

    void Arrived(long start)
    {
        var j = job!;
        j.Waiting.Remove(start);
        if (j.Waiting.Count == 0) Guard(() => Next(j));
    }

    /// <summary>Every range has done the current step: the coordinator's share of it, then the next step.</summary>
    void Next(Job j)
    {
        var q = j.Request;
        switch (j.Step)
        {
            case Step.Loading:
            {
                var stats = j.File("stats.npy");
                if (j.Parts.Count == 1) stats = j.File($"stats-{j.Parts[0].Start}.npy");
                else
                {
                    var parts = j.Parts.Select(p => PcaStatistics.Load(j.File($"stats-{p.Start}.npy"))).ToList();
                    try { using var merged = PcaStatistics.Merge(parts); merged.Save(stats); }
                    finally { parts.ForEach(p => p.Dispose()); }
                }
                var dims = (int)Math.Min(q.Pca, new NpyRowChunks(q.FeaturesPath).Cols);
                Send(Step.Projecting, _ => new KMeansProjectRange(j.Id, stats, dims, q.Device));
                break;
            }
            case Step.Projecting:
            {
                j.PreprocessSeconds = j.Clock.Elapsed.TotalSeconds;
                // faiss's initialisation: the rows perm[0..k) of rand_perm(N, seed + 1), gathered from the ranges holding them.
                var perm = FaissRandom.RandPerm(checked((int)j.Rows), q.Seed + 1);
                NpyFile.WriteInt64(j.File("initial-rows.npy"), perm.AsSpan(0, q.K).ToArray().Select(i => (long)i).ToArray());
                Send(Step.Gathering, p => new KMeansGatherRows(j.Id, j.File("initial-rows.npy"), j.File($"positions-{p.Start}.npy"),
                    j.File($"values-{p.Start}.npy")));
                break;
            }
            case Step.Gathering:
            {
                Tensor? centroids = null;
                foreach (var p in j.Parts)
                {
                    using var scope = NewDisposeScope();
                    var values = NpyFile.ReadTensor(j.File($"values-{p.Start}.npy"));
                    centroids ??= empty(q.K, values.shape[1], ScalarType.Float32).DetachFromDisposeScope();
                    var positions = NpyFile.ReadInt64(j.File($"positions-{p.Start}.npy"));
                    if (positions.Length > 0) centroids.index_copy_(0, tensor(positions, ScalarType.Int64), values);
                }
                j.Centroids = centroids;
                if (j.Rows == q.K)
                {
                    j.Objectives.Add(0);                  // faiss: the points are the centroids, one fake iteration
                    Assign(j);
                }
                else Iterate(j);
                break;
            }
            case Step.Iterating:
            {
                // The reduce, in range order: float64 sums and counts, then the means and faiss's splitting of empty clusters.
                var parts = j.Parts.Select(p => new KMeansPartial(NpyFile.ReadTensor(j.File($"sums-{p.Start}.npy")),
                    NpyFile.ReadInt64(j.File($"counts-{p.Start}.npy")), j.Stepped[p.Start].Objective, j.Stepped[p.Start].Points)).ToList();
                try
                {
                    using var total = KMeansPartial.Merge(parts);
                    total.UpdateCentroids(j.Centroids!);
                    j.Objectives.Add(total.Objective);
                    j.Requester.Tell(new PhaseProgress(q.Epoch, Phase.Clustering, j.Iteration + 1, q.Niter, 0, "it",
                        $"objective {total.Objective:F2}",
                        PhaseProgress.NodesOf(j.Parts.Select(p => p.Worker), ((ExtendedActorSystem)Context.System).Provider.DefaultAddress)));
                }
                finally { parts.ForEach(p => p.Dispose()); }
                j.Iteration++;
                if (j.Iteration < q.Niter) Iterate(j);
                else Assign(j);
                break;
            }
            case Step.Assigning:
            {
                var assignments = new long[j.Rows];
                foreach (var p in j.Parts)
                {
                    var part = NpyFile.ReadInt64(j.File($"assignments-{p.Start}.npy"));
                    if (part.Length != p.Count) throw new InvalidDataException($"{j.File($"assignments-{p.Start}.npy")}: {part.Length} rows, expected {p.Count}.");
                    part.CopyTo(assignments, p.Start);
                }
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(q.AssignmentsPath))!);
                NpyFile.WriteInt64(q.AssignmentsPath, assignments);
                var nonEmpty = assignments.Distinct().Count();
                var done = new FeaturesClustered(q.Epoch, q.AssignmentsPath, j.Objectives[^1], j.Objectives.ToArray(), nonEmpty,
                    j.Clock.Elapsed.TotalSeconds);
                End();                    // the job's files are removed before the result is told
                j.Requester.Tell(done);
                break;
            }
        }
    }

    void Iterate(Job j)
    {
        NpyFile.WriteTensor(j.File("centroids.npy"), j.Centroids!);
        j.Stepped.Clear();
        Send(Step.Iterating, p => new KMeansStep(j.Id, j.Iteration, j.File("centroids.npy"), j.File($"sums-{p.Start}.npy"),
            j.File($"counts-{p.Start}.npy")));
    }

    void Assign(Job j)
    {
        NpyFile.WriteTensor(j.File("centroids.npy"), j.Centroids!);
        Send(Step.Assigning, p => new KMeansAssign(j.Id, j.File("centroids.npy"), j.File($"assignments-{p.Start}.npy")));
    }

    /// <summary>Runs the coordinator's share of a step; an error fails the job with its message.</summary>
    void Guard(Action step)
    {
        try { step(); }
        catch (Exception e) when (e is not OutOfMemoryException) { Fail(e.Message); }
    }

    /// <summary>
    /// A worker holding a range stopped (its node died): its rows are lost, so the clustering starts over on the workers
    /// left (in this process when none is). Each start draws from the same seed; with another number of workers the
    /// reduce adds the same sums in other groups, so the objective may differ in its last digits.
    /// </summary>
    void Restart(Job j, IActorRef lost)
    {
        var (request, requester) = (j.Request, j.Requester);
        log.Warning("k-means worker {0} stopped during the clustering; starting it again on {1} worker(s)", lost.Path, workers.Count);
        requester.Tell(new ExperimentLog($"epoch {request.Epoch}: a k-means worker ({lost.Path.Address}) stopped during the clustering; " +
                                         $"it starts again on {(workers.Count == 0 ? "this node" : $"the {workers.Count} worker(s) left")}"));
        End();
        Self.Tell(request, requester);
    }

    void Fail(string error)
    {
        log.Error("clustering failed: {0}", error);
        if (job is { } j) j.Requester.Tell(new ClusteringFailed(j.Request.Epoch, error));
        End();
    }

    /// <summary>Ends the current job, if any: the workers free its rows and its files are removed.</summary>
    void End()
    {
        if (job is not { } j) return;
        job = null;
        foreach (var p in j.Parts) p.Worker.Tell(new KMeansRelease(j.Id));
        j.Dispose();
        try { if (Directory.Exists(j.Dir)) Directory.Delete(j.Dir, recursive: true); }
        catch (IOException) { /* left behind: harmless */ }
    }

    /// <summary>A restart keeps the workers: they are announced again to the new instance (the job itself is lost).</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        End();
        foreach (var w in workers) Self.Tell(new KMeansWorkerAvailable(w));
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        End();
        base.PostStop();
    }
}

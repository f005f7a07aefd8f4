using Akka.Actor;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Clustering;

/// <summary>
/// Holds one row range of a distributed k-means job (<see cref="KMeansCoordinatorActor"/>) and does the per-range steps
/// of DeepCluster-v2's k-means: PCA statistics of its rows, their projection with the PCA fitted from every range's
/// statistics, its share of the initial centroids, the per-iteration partial sums and counts, and the final
/// assignment. Only its N/W × P projected rows stay in memory between steps; every input and output is a file named by
/// the coordinator, so the worker can run on any node that sees the experiment folder.
/// </summary>
public sealed class KMeansWorkerActor : ReceiveActor
{
    sealed class Job(KMeansLoadRange load) : IDisposable
    {
        public KMeansLoadRange Load { get; } = load;
        public Tensor? Points;
        public KMeansRange? Range;
        public void Dispose() { Range?.Dispose(); Points?.Dispose(); }
    }

    readonly IActorRef coordinator;
    readonly Dictionary<string, Job> jobs = new();

    public KMeansWorkerActor(IActorRef coordinator)
    {
        this.coordinator = coordinator;
        Receive<KMeansLoadRange>(m => Do(m.JobId, () =>
        {
            Release(m.JobId);
            jobs[m.JobId] = new Job(m);
            using (var stats = PcaStatistics.OfFile(new NpyRowChunks(m.FeaturesPath), m.Start, m.Count)) stats.Save(m.StatsPath);
            return new KMeansRangeLoaded(m.JobId, m.Start);
        }));
        Receive<KMeansProjectRange>(m => Do(m.JobId, () =>
        {
            var job = Of(m.JobId);
            using var stats = PcaStatistics.Load(m.StatsPath);
            using var pca = stats.Fit(m.Dims);
            var load = job.Load;
            var device = TorchRuntime.ResolveDevice(m.Device);
            var rows = StreamingPreprocessing.Apply(new NpyRowChunks(load.FeaturesPath), load.Start, load.Count, pca);
            job.Points = rows.to(device);                                  // the same tensor on the CPU
            if (!ReferenceEquals(rows, job.Points)) rows.Dispose();
            job.Range = new KMeansRange(job.Points, load.Start);
            return new KMeansRangeProjected(m.JobId, load.Start);
        }));
        Receive<KMeansGatherRows>(m => Do(m.JobId, () =>
        {
            var job = Of(m.JobId);
            using var scope = NewDisposeScope();
            var (positions, values) = Ready(job).Gather(NpyFile.ReadInt64(m.RowsPath));
            NpyFile.WriteInt64(m.PositionsPath, positions);
            NpyFile.WriteTensor(m.ValuesPath, values);
            return new KMeansRowsGathered(m.JobId, job.Load.Start);
        }));
        Receive<KMeansStep>(m => Do(m.JobId, () =>
        {
            var job = Of(m.JobId);
            using var centroids = NpyFile.ReadTensor(m.CentroidsPath);
            using var partial = Ready(job).Step(centroids);
            NpyFile.WriteTensor(m.SumsPath, partial.Sums);
            NpyFile.WriteInt64(m.CountsPath, partial.Counts);
            return new KMeansStepped(m.JobId, m.Iteration, job.Load.Start, partial.Objective, partial.Points);
        }));
        Receive<KMeansAssign>(m => Do(m.JobId, () =>
        {
            var job = Of(m.JobId);
            using var scope = NewDisposeScope();
            var centroids = NpyFile.ReadTensor(m.CentroidsPath);
            var (distances, indices) = Ready(job).Assign(centroids);
            NpyFile.WriteTensor(m.AssignmentsPath, indices.cpu());
            var objective = distances.sum(ScalarType.Float64).item<double>();
            Release(m.JobId);      // the last step: the rows are no longer needed
            return new KMeansAssigned(m.JobId, job.Load.Start, objective);
        }));
        Receive<KMeansRelease>(m => Release(m.JobId));
        Receive<KMeansWorkersWanted>(w => w.Coordinator.Tell(new KMeansWorkerAvailable(Self)));
    }

    public static Props Props(IActorRef coordinator) => Akka.Actor.Props.Create(() => new KMeansWorkerActor(coordinator));

    /// <summary>Runs a step and replies with its result, or with <see cref="KMeansWorkFailed"/> naming what went wrong.</summary>
    void Do(string jobId, Func<object> step)
    {
        object reply;
        try { reply = step(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Release(jobId);
            reply = new KMeansWorkFailed(jobId, e.Message);
        }
        Sender.Tell(reply);
    }

    Job Of(string jobId) => jobs.TryGetValue(jobId, out var job) ? job
        : throw new InvalidOperationException($"k-means job {jobId}: this worker holds no range of it (restarted?)");

    static KMeansRange Ready(Job job) => job.Range ?? throw new InvalidOperationException("k-means step before the range was projected");

    void Release(string jobId)
    {
        if (jobs.Remove(jobId, out var job)) job.Dispose();
    }

    protected override void PreStart()
    {
        TorchRuntime.FlushDenormals();   // this actor's own thread
        coordinator.Tell(new KMeansWorkerAvailable(Self));
    }

    protected override void PostStop()
    {
        foreach (var job in jobs.Values) job.Dispose();
        jobs.Clear();
        base.PostStop();
    }
}

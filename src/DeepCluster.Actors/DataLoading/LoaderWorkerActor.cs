using System.Runtime.InteropServices;
using Akka.Actor;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.DataLoading;

/// <summary>
/// Makes training batches for batch sources on other nodes (<see cref="DistributedLoaderActor"/>): announces itself
/// (<see cref="LoaderWorkerAvailable"/>), then makes each <see cref="MakeBatch"/> with the same <see cref="BatchLoader"/>
/// code as the trainer's own loader — batch b of (seed, epoch, order) is the same bits wherever it is made — writes it
/// to the file the request names and answers with the path only. Up to <c>slots</c> batches are made at once, each on
/// its own task; more wait their turn. The order and labels of a job are read once and kept until
/// <see cref="ReleaseBatchJob"/> (at most <see cref="KeptJobs"/> jobs).
/// </summary>
public sealed class LoaderWorkerActor : ReceiveActor
{
    /// <summary>Jobs whose order and labels are kept at once (a source releases its job at the end of each stream).</summary>
    public const int KeptJobs = 4;

    sealed record Job(IImageDataset Dataset, Compose Transform, int[] Order, int[]? Labels, bool SkipBadFiles);

    /// <summary>A batch task ended (its answer already sent).</summary>
    sealed record Made(string JobId, int Number);

    readonly IActorRef announceTo;
    readonly int slots;
    readonly Dictionary<string, IImageDataset> datasets = new();
    readonly Dictionary<string, Job> jobs = new();
    readonly LinkedList<string> jobOrder = new();
    readonly Dictionary<(string JobId, int Number), CancellationTokenSource> running = new();
    /// <summary>The tasks of <see cref="running"/>, so the datasets are disposed only after them (<see cref="PostStop"/>).</summary>
    readonly Dictionary<(string JobId, int Number), Task> tasks = new();
    readonly LinkedList<(MakeBatch Request, IActorRef ReplyTo)> waiting = new();

    /// <param name="announceTo">A batch source to announce this worker to at start (<see cref="ActorRefs.Nobody"/>: none;
    /// on a worker node, sources find it over DistributedPubSub).</param>
    /// <param name="slots">Batches made at once; 0: this node's cores.</param>
    public LoaderWorkerActor(IActorRef announceTo, int slots = 0)
    {
        this.announceTo = announceTo;
        this.slots = slots > 0 ? slots : Environment.ProcessorCount;
        Receive<MakeBatch>(m =>
        {
            waiting.AddLast((m, Sender));
            StartWaiting();
        });
        Receive<ReleaseBatchJob>(Release);
        Receive<LoaderWorkersWanted>(w => w.Source.Tell(new LoaderWorkerAvailable(Self, this.slots, Started: false)));
        Receive<Made>(m =>
        {
            if (running.Remove((m.JobId, m.Number), out var cts)) cts.Dispose();
            tasks.Remove((m.JobId, m.Number));
            StartWaiting();
        });
    }

    public static Props Props(IActorRef announceTo, int slots = 0) =>
        Akka.Actor.Props.Create(() => new LoaderWorkerActor(announceTo, slots));

    void StartWaiting()
    {
        while (running.Count < slots && waiting.First is { } first)
        {
            waiting.RemoveFirst();
            Start(first.Value.Request, first.Value.ReplyTo);
        }
    }

    void Start(MakeBatch m, IActorRef replyTo)
    {
        BatchLoader loader;
        try
        {
            var job = JobOf(m);
            loader = new BatchLoader(job.Dataset, job.Transform, job.Order, m.BatchSize, workers: 1, prefetch: 1, seed: m.Seed,
                epoch: m.Epoch, labels: job.Labels, skipBadFiles: job.SkipBadFiles, startBatch: m.Number, endBatch: m.Number + 1);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or OverflowException)
        {
            replyTo.Tell(new BatchNotMade(m.JobId, m.Number, e.Message));
            return;
        }
        var cts = new CancellationTokenSource();
        running[(m.JobId, m.Number)] = cts;
        var self = Self;
        var token = cts.Token;
        tasks[(m.JobId, m.Number)] = Task.Run(async () =>
        {
            object? answer;
            string? path = null;
            try
            {
                var skipped = 0;
                await foreach (var b in loader.WithCancellation(token).ConfigureAwait(false))
                    using (b)
                    {
                        // The decoders' pooled array goes to the file as it is (no tensor copy), then back to its pool.
                        var shape = b.Images.shape;
                        var images = b.TakeImages();
                        try { BatchFile.Write(m.OutPath, b.Number, MemoryMarshal.AsBytes(images.AsSpan()), shape, b.Labels.data<long>().ToArray(), b.Indices); }
                        finally { BatchBufferPool.ReturnToOwner(images); }
                        path = m.OutPath;
                        skipped = b.Skipped;
                    }
                answer = new BatchWritten(m.JobId, m.Number, path, path is null ? loader.SkippedCount : skipped);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                answer = null;   // released: nobody reads the batch
                if (path is not null) try { File.Delete(path); } catch (IOException) { /* the next stream removes it */ }
            }
            catch (Exception e) { answer = new BatchNotMade(m.JobId, m.Number, e.Message); }
            if (answer is not null) replyTo.Tell(answer, self);
            self.Tell(new Made(m.JobId, m.Number));
        }, CancellationToken.None);
    }

    /// <summary>The job's order and labels, read once per job; its dataset, opened once per node.</summary>
    Job JobOf(MakeBatch m)
    {
        if (jobs.TryGetValue(m.JobId, out var job)) return job;
        var spec = m.Dataset;
        var key = $"{spec.Path}|{spec.Format}|{spec.Split}|{spec.Limit}|{spec.SkipBadFiles}";
        if (!datasets.TryGetValue(key, out var dataset))
            datasets[key] = dataset = DatasetSource.Open(spec.Path, spec.Format, spec.Split, spec.Limit, spec.SkipBadFiles);
        var order = NpyFile.ReadInt64(m.OrderPath).Select(v => checked((int)v)).ToArray();
        var labels = m.LabelsPath is null ? null : NpyFile.ReadInt64(m.LabelsPath).Select(v => checked((int)v)).ToArray();
        job = new Job(dataset, DeepClusterTransforms.For(m.Transform == TransformKind.Training, m.InputSize), order, labels, spec.SkipBadFiles);
        jobs[m.JobId] = job;
        jobOrder.AddLast(m.JobId);
        while (jobOrder.Count > KeptJobs)
        {
            jobs.Remove(jobOrder.First!.Value);
            jobOrder.RemoveFirst();
        }
        return job;
    }

    void Release(ReleaseBatchJob r)
    {
        for (var n = waiting.First; n is not null;)
        {
            var next = n.Next;
            if (n.Value.Request.JobId == r.JobId) waiting.Remove(n);
            n = next;
        }
        foreach (var (key, cts) in running)
            if (key.JobId == r.JobId) cts.Cancel();
        jobs.Remove(r.JobId);
        jobOrder.Remove(r.JobId);
    }

    protected override void PreStart()
    {
        if (!announceTo.IsNobody()) announceTo.Tell(new LoaderWorkerAvailable(Self, slots));
    }

    protected override void PostStop()
    {
        foreach (var cts in running.Values) cts.Cancel();
        DataLoaderActor.DisposeWhenDone(datasets.Values, tasks.Values.ToArray());
        datasets.Clear();
        base.PostStop();
    }
}

using Akka.Actor;
using Akka.Event;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;

namespace DeepCluster.Actors.DataLoading;

/// <summary>
/// Reads and decodes images for the feature pass and for training. Each stream runs a <see cref="BatchLoader"/>
/// (<c>--workers</c> decoders, bounded channel) and hands batches to its consumer one pull at a time, so no more
/// than the prefetch window is ever decoded ahead.
/// </summary>
public sealed class DataLoaderActor : ReceiveActor
{
    sealed class Stream(string id, IActorRef consumer, IAsyncEnumerator<Batch> batches, CancellationTokenSource cts)
    {
        public string Id { get; } = id;
        public IActorRef Consumer { get; } = consumer;
        public IAsyncEnumerator<Batch> Batches { get; } = batches;
        public CancellationTokenSource Cts { get; } = cts;
        public BatchLoader? Loader { get; init; }
        public int Demand;
        public bool Fetching;
        /// <summary>Batches still to deliver; at 0 the end is fetched without waiting for demand.</summary>
        public int Remaining;
    }

    /// <summary>A batch the loader fetched for itself (tensors: never leaves this actor, so never serialised).</summary>
    sealed record Fetched(string StreamId, Batch? Batch, Exception? Error) : INoSerializationVerificationNeeded;

    readonly Dictionary<string, Stream> streams = new();
    readonly Dictionary<string, IImageDataset> datasets = new();
    readonly ILoggingAdapter log = Context.GetLogger();
    /// <summary>Batches decoded ahead of the consumer (<c>deepcluster.loader.prefetch-batches</c>).</summary>
    readonly int prefetch = Hosting.DeepClusterSettings.Of(Context.System).PrefetchBatches;
    /// <summary>Where the decoders' image arrays come from; each goes to the consumer inside its batch message.</summary>
    readonly BatchBufferPool pool;

    public DataLoaderActor(BatchBufferPool? pool = null)
    {
        this.pool = pool ?? BatchBufferPool.Shared;
        Receive<OpenStream>(Open);
        Receive<PullBatches>(p =>
        {
            if (!streams.TryGetValue(p.StreamId, out var s)) return;
            s.Demand += p.Count;
            FetchIfNeeded(s);
        });
        Receive<Fetched>(OnFetched);
        Receive<CloseStream>(c => Close(c.StreamId));
        Receive<DescribeDataset>(Describe);
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new DataLoaderActor(null));

    /// <summary>A loader whose image arrays come from <paramref name="pool"/> (a test counts what is given back).</summary>
    public static Props Props(BatchBufferPool pool) => Akka.Actor.Props.Create(() => new DataLoaderActor(pool));

    void Open(OpenStream msg)
    {
        try
        {
            var dataset = Dataset(msg.Dataset);
            var transform = DeepClusterTransforms.For(msg.Transform == TransformKind.Training, msg.InputSize);
            int[]? order = msg.OrderPath is null ? null : NpyFile.ReadInt64(msg.OrderPath).Select(v => checked((int)v)).ToArray();
            if (msg.RangeCount is int rangeCount)
            {
                if (order is not null) throw new ArgumentException($"{msg.OrderPath}: an order file and an index range exclude each other.");
                if (msg.RangeStart < 0 || rangeCount < 0 || (long)msg.RangeStart + rangeCount > dataset.Count)
                    throw new ArgumentException($"{msg.Dataset.Path}: images {msg.RangeStart}..{(long)msg.RangeStart + rangeCount - 1} " +
                                                $"are outside the dataset (0..{dataset.Count - 1}).");
                order = Enumerable.Range(msg.RangeStart, rangeCount).ToArray();
            }
            int[]? labels = msg.LabelsPath is null ? null : NpyFile.ReadInt64(msg.LabelsPath).Select(v => checked((int)v)).ToArray();
            // Decoders share the cores with the compute threads: more decoders than cores only take time from the
            // SGD steps (PyTorch's workers are processes for the GIL's sake; ours are tasks in one process).
            var workers = Math.Clamp(msg.Workers, 1, Environment.ProcessorCount);
            var loader = new BatchLoader(dataset, transform, order, msg.BatchSize, workers: workers,
                prefetch: prefetch, seed: msg.Seed, epoch: msg.Epoch, labels: labels, skipBadFiles: msg.Dataset.SkipBadFiles,
                startBatch: msg.StartBatch, pool: pool);
            var cts = new CancellationTokenSource();
            var s = new Stream(msg.StreamId, Sender, loader.GetAsyncEnumerator(cts.Token), cts)
            {
                Loader = loader, Remaining = Math.Max(0, loader.BatchCount - msg.StartBatch),
            };
            Close(msg.StreamId);
            streams[msg.StreamId] = s;
            var count = order?.Length ?? dataset.Count;
            Sender.Tell(new StreamOpened(msg.StreamId, count, loader.BatchCount, dataset.Count, dataset.Labels));
            FetchIfNeeded(s);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            Sender.Tell(new StreamFailed(msg.StreamId, e.Message));
        }
    }

    void Describe(DescribeDataset msg)
    {
        try
        {
            var dataset = Dataset(msg.Dataset);
            Sender.Tell(new DatasetDescribed(msg.RequestId, dataset.Count, dataset.Labels));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            Sender.Tell(new DatasetUnavailable(msg.RequestId, e.Message));
        }
    }

    IImageDataset Dataset(DatasetSpec spec)
    {
        var key = $"{spec.Path}|{spec.Format}|{spec.Split}|{spec.Limit}|{spec.SkipBadFiles}";
        if (!datasets.TryGetValue(key, out var ds))
            datasets[key] = ds = DatasetSource.Open(spec.Path, spec.Format, spec.Split, spec.Limit, spec.SkipBadFiles);
        return ds;
    }

    void FetchIfNeeded(Stream s)
    {
        if (s.Fetching || (s.Demand <= 0 && s.Remaining > 0)) return;
        s.Fetching = true;
        var self = Self;
        s.Batches.MoveNextAsync().AsTask().ContinueWith(t =>
            t.IsCompletedSuccessfully
                ? new Fetched(s.Id, t.Result ? s.Batches.Current : null, null)
                : new Fetched(s.Id, null, t.Exception?.GetBaseException() ?? new OperationCanceledException()))
            .PipeTo(self);
    }

    void OnFetched(Fetched f)
    {
        if (!streams.TryGetValue(f.StreamId, out var s)) { f.Batch?.Dispose(); return; }
        s.Fetching = false;
        if (f.Error is not null)
        {
            s.Consumer.Tell(new StreamFailed(s.Id, f.Error.Message));
            Close(s.Id);
            return;
        }
        if (f.Batch is null)
        {
            s.Consumer.Tell(new StreamCompleted(s.Id, s.Loader?.SkippedCount ?? 0));
            Close(s.Id);
            return;
        }
        using (var b = f.Batch)
        {
            var shape = b.Images.shape;
            var images = b.TakeImages();                    // the decoders' own array: no copy
            // A consumer on another node gets the array serialised, at some later moment: it leaves the pool for good.
            if (!s.Consumer.Path.Address.HasLocalScope) BatchBufferPool.Forget(images);
            s.Consumer.Tell(new BatchLoaded(s.Id, b.Number, images, shape, b.Labels.data<long>().ToArray(), b.Indices));
        }
        s.Demand--;
        s.Remaining--;
        FetchIfNeeded(s);
    }

    void Close(string id) => _ = Closing(id);

    /// <summary>Cancels stream <paramref name="id"/>; the task ends when its decoders have stopped.</summary>
    Task Closing(string id)
    {
        if (!streams.Remove(id, out var s)) return Task.CompletedTask;
        s.Cts.Cancel();
        return s.Batches.DisposeAsync().AsTask().ContinueWith(_ => s.Cts.Dispose(), TaskScheduler.Default);
    }

    /// <summary>
    /// Closes the streams, then disposes the datasets this actor opened that hold resources (a pack's memory mapping
    /// and file handle) once their decoders have stopped.
    /// </summary>
    protected override void PostStop()
    {
        var closing = streams.Keys.ToList().Select(Closing).ToArray();
        DisposeWhenDone(datasets.Values, closing);
        datasets.Clear();
        base.PostStop();
    }

    /// <summary>Disposes those of <paramref name="opened"/> that are <see cref="IDisposable"/> once <paramref name="users"/> have ended (however they end).</summary>
    internal static void DisposeWhenDone(IEnumerable<IImageDataset> opened, Task[] users)
    {
        var owned = opened.OfType<IDisposable>().ToList();
        if (owned.Count == 0) return;
        Task.WhenAll(users).ContinueWith(_ => { foreach (var d in owned) d.Dispose(); }, TaskScheduler.Default);
    }
}

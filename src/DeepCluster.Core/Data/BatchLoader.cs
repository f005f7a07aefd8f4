using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using TorchSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// Decodes and transforms samples on <c>workers</c> background tasks and yields <see cref="Batch"/>es in the
/// order of the index list, whatever the workers' timing (PyTorch DataLoader with a sampler, drop_last=false
/// by default). At most <c>prefetch</c> batches are being built or waiting at any time. Sample at position
/// <c>p</c> of the list is augmented with <see cref="SampleRng.For"/>(seed, epoch, p), so the output depends
/// only on (seed, epoch, order). A worker's error surfaces to the consumer at that batch's turn, naming the file.
/// Enumerating again restarts the epoch. main.py's pipelines (RandomResizedCrop + flip, Resize + CenterCrop) run through
/// <see cref="FusedSampler"/>: the same tensors, decoded and written straight into the batch array.
/// </summary>
public sealed class BatchLoader : IAsyncEnumerable<Batch>, IEnumerable<Batch>
{
    readonly IImageDataset _dataset;
    readonly Compose _transform;
    readonly FusedSampler? _fused;
    readonly int[] _order;
    readonly int[]? _labels;
    readonly List<string> _skipped = new();
    readonly BatchBufferPool _pool;
    int _ahead, _maxAhead;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Decoding tasks.</summary>
    public int Workers { get; }
    /// <summary>Most batches built ahead of the consumer.</summary>
    public int Prefetch { get; }
    /// <summary>Drop the last, incomplete batch.</summary>
    public bool DropLast { get; }
    /// <summary>First batch an enumeration yields (0 = the whole epoch).</summary>
    public int StartBatch { get; }
    /// <summary>The batch an enumeration stops before (null = the end of the epoch): with <see cref="StartBatch"/>, one run
    /// of the epoch's batches, built exactly as in a whole-epoch enumeration (a loader on another node makes them).</summary>
    public int? EndBatch { get; }
    /// <summary>Run seed for augmentation.</summary>
    public long Seed { get; }
    /// <summary>Epoch, mixed into augmentation seeds.</summary>
    public int Epoch { get; set; }
    /// <summary>Leave out samples whose file fails to decode (counted in <see cref="SkippedCount"/>) instead of failing.</summary>
    public bool SkipBadFiles { get; }
    /// <summary>Number of batches an epoch yields at most.</summary>
    public int BatchCount => DropLast ? _order.Length / BatchSize : (_order.Length + BatchSize - 1) / BatchSize;
    /// <summary>Samples skipped so far in the current (or last) enumeration.</summary>
    public int SkippedCount { get { lock (_skipped) return _skipped.Count; } }
    /// <summary>Files (sample descriptions) skipped so far in the current (or last) enumeration.</summary>
    public IReadOnlyList<string> SkippedFiles { get { lock (_skipped) return _skipped.ToArray(); } }
    /// <summary>Highest number of batches seen in production or waiting, not yet taken by the consumer (never above <see cref="Prefetch"/>).</summary>
    public int MaxAhead => Volatile.Read(ref _maxAhead);

    /// <summary>Creates the loader.</summary>
    /// <param name="dataset">Samples to read; <see cref="IImageDataset.Load"/> is called from several threads.</param>
    /// <param name="transform">Pipeline ending in <see cref="ToTensor"/>; every sample must give the same shape.</param>
    /// <param name="order">Dataset indices in the order to yield them (repeats allowed); null means 0..Count-1.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="workers">Background decoding tasks (1 or more).</param>
    /// <param name="prefetch">Most batches built ahead of the consumer (1 or more).</param>
    /// <param name="dropLast">Drop the last incomplete batch.</param>
    /// <param name="seed">Augmentation seed.</param>
    /// <param name="epoch">Epoch number, mixed into augmentation seeds.</param>
    /// <param name="labels">Label of each position of <paramref name="order"/> (e.g. cluster assignments); null uses the dataset's labels, or -1.</param>
    /// <param name="skipBadFiles">Skip samples that throw <see cref="ImageDecodeException"/> instead of failing.</param>
    /// <param name="startBatch">First batch to yield (resuming inside an epoch); earlier batches are never decoded and
    /// later ones get the same augmentation as in an uninterrupted run.</param>
    /// <param name="endBatch">Batch to stop before (null: the epoch's end).</param>
    /// <param name="pool">Where the image arrays are rented (each batch's image tensor is a view of one, given back
    /// when the batch is disposed); null: <see cref="BatchBufferPool.Shared"/>.</param>
    public BatchLoader(IImageDataset dataset, Compose transform, int[]? order, int batchSize, int workers = 2, int prefetch = 3,
                       bool dropLast = false, long seed = 0, int epoch = 0, int[]? labels = null, bool skipBadFiles = false,
                       int startBatch = 0, int? endBatch = null, BatchBufferPool? pool = null)
    {
        _pool = pool ?? BatchBufferPool.Shared;
        if (startBatch < 0) throw new ArgumentOutOfRangeException(nameof(startBatch), "start batch must be 0 or more");
        if (endBatch < startBatch) throw new ArgumentOutOfRangeException(nameof(endBatch), "end batch must not be before the start batch");
        StartBatch = startBatch;
        EndBatch = endBatch;
        _dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        _transform = transform ?? throw new ArgumentNullException(nameof(transform));
        if (!transform.ProducesTensor) throw new ArgumentException("the transform must end in ToTensor (optionally Normalize)", nameof(transform));
        _order = order ?? Enumerable.Range(0, dataset.Count).ToArray();
        foreach (var i in _order)
            if ((uint)i >= (uint)dataset.Count) throw new ArgumentOutOfRangeException(nameof(order), $"index {i} outside the dataset (0..{dataset.Count - 1})");
        if (labels != null && labels.Length != _order.Length)
            throw new ArgumentException($"{labels.Length} labels for {_order.Length} positions", nameof(labels));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be positive");
        if (workers <= 0) throw new ArgumentOutOfRangeException(nameof(workers), "need at least one worker");
        if (prefetch <= 0) throw new ArgumentOutOfRangeException(nameof(prefetch), "prefetch must be at least 1");
        _labels = labels;
        _fused = FusedSampler.For(transform);
        BatchSize = batchSize; Workers = workers; Prefetch = prefetch; DropLast = dropLast;
        Seed = seed; Epoch = epoch; SkipBadFiles = skipBadFiles;
    }

    /// <summary>Enumerates synchronously (blocks while the next batch is being built).</summary>
    public IEnumerator<Batch> GetEnumerator() => this.ToBlockingEnumerable().GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public async IAsyncEnumerator<Batch> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        lock (_skipped) _skipped.Clear();
        _ahead = 0; _maxAhead = 0;
        int batches = Math.Min(BatchCount, EndBatch ?? int.MaxValue), epoch = Epoch;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = cts.Token;
        // Backpressure: a worker takes a slot before building a batch and the slot comes back only when the consumer
        // takes that batch, in order; so the channel (and the reordering buffer) never hold more than Prefetch batches.
        var done = Channel.CreateBounded<(int Number, Batch? Batch, ExceptionDispatchInfo? Error)>(
            new BoundedChannelOptions(Prefetch) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        using var slots = new SemaphoreSlim(Prefetch);
        int next = StartBatch - 1;
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
            workers[w] = Task.Run(async () =>
            {
                while (true)
                {
                    await slots.WaitAsync(token).ConfigureAwait(false);
                    int b = Interlocked.Increment(ref next);
                    if (b >= batches) { slots.Release(); return; }
                    int ahead = Interlocked.Increment(ref _ahead);
                    for (int m; ahead > (m = Volatile.Read(ref _maxAhead)) && Interlocked.CompareExchange(ref _maxAhead, ahead, m) != m;) { }
                    (int, Batch?, ExceptionDispatchInfo?) item;
                    try { item = (b, Build(b, epoch, token), null); }
                    catch (OperationCanceledException) when (token.IsCancellationRequested) { return; }
                    catch (Exception e) { item = (b, null, ExceptionDispatchInfo.Capture(e)); }
                    if (!done.Writer.TryWrite(item))                 // never full (see slots); waits rather than drop if it were
                    {
                        try { await done.Writer.WriteAsync(item, token).ConfigureAwait(false); }
                        catch (OperationCanceledException) { item.Item2?.Dispose(); return; }
                    }
                }
            }, token);

        var waiting = new Dictionary<int, (Batch? Batch, ExceptionDispatchInfo? Error)>();
        try
        {
            for (int b = StartBatch; b < batches; b++)
            {
                (Batch? Batch, ExceptionDispatchInfo? Error) item;
                while (!waiting.Remove(b, out item))
                {
                    var r = await done.Reader.ReadAsync(token).ConfigureAwait(false);
                    waiting[r.Number] = (r.Batch, r.Error);
                }
                Interlocked.Decrement(ref _ahead);
                slots.Release();
                item.Error?.Throw();
                if (item.Batch!.Count == 0) { item.Batch.Dispose(); continue; }
                yield return item.Batch;
            }
        }
        finally
        {
            cts.Cancel();
            try { await Task.WhenAll(workers).ConfigureAwait(false); } catch (OperationCanceledException) { }
            foreach (var w in waiting.Values) w.Batch?.Dispose();
            while (done.Reader.TryRead(out var r)) r.Batch?.Dispose();
        }
    }

    /// <summary>
    /// Builds batch <paramref name="number"/>: decodes and transforms each sample straight into a rented array, whose
    /// view is the image tensor (no copy; the array goes back to the pool if the batch cannot be built).
    /// </summary>
    Batch Build(int number, int epoch, CancellationToken token)
    {
        float[]? data = null;
        try { return Assemble(number, epoch, token, ref data); }
        catch
        {
            BatchBufferPool.ReturnToOwner(data);
            throw;
        }
    }

    Batch Assemble(int number, int epoch, CancellationToken token, ref float[]? data)
    {
        int start = number * BatchSize, end = Math.Min(start + BatchSize, _order.Length);
        var indices = new List<int>(end - start);
        var positions = new List<int>(end - start);
        SampleShape shape = default;
        int skipped = 0;
        for (int p = start; p < end; p++)
        {
            token.ThrowIfCancellationRequested();
            int index = _order[p];
            if (_fused != null)   // main.py's pipelines: decoded and transformed straight into the batch buffer
            {
                data ??= _pool.Rent((end - start) * (shape = _fused.Shape).Length);
                try { _fused.Write(_dataset, index, SampleRng.For(Seed, epoch, p), data.AsSpan(indices.Count * shape.Length, shape.Length)); }
                catch (ImageDecodeException e) when (SkipBadFiles)
                {
                    lock (_skipped) _skipped.Add(e.Origin);
                    skipped++;
                    continue;
                }
                indices.Add(index);
                positions.Add(p);
                continue;
            }
            RgbImage image;
            try { image = _dataset.Load(index); }
            catch (ImageDecodeException e) when (SkipBadFiles)
            {
                lock (_skipped) _skipped.Add(e.Origin);
                skipped++;
                continue;
            }
            RgbImage[] crops;
            try
            {
                crops = _transform.ApplyImages(image, SampleRng.For(Seed, epoch, p));
                var s = _transform.ShapeOf(crops);
                if (data == null) { shape = s; data = _pool.Rent((end - start) * shape.Length); }
                else if (s != shape)
                    throw new InvalidOperationException($"transformed sample is {s}, the batch's first is {shape}; add a crop to the transform");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"{_dataset.Describe(index)}: transform failed: {e.Message}", e);
            }
            _transform.WriteTensor(crops, data.AsSpan(indices.Count * shape.Length, shape.Length));
            indices.Add(index);
            positions.Add(p);
        }
        int n = indices.Count;
        var labels = new long[n];
        for (int i = 0; i < n; i++)
            labels[i] = _labels != null ? _labels[positions[i]] : _dataset.Labels?[indices[i]] ?? -1;
        long[] dims = shape.Crops == 1 ? [n, 3, shape.Height, shape.Width] : [n, shape.Crops, 3, shape.Height, shape.Width];
        if (n == 0) dims = [0, 3, 0, 0];
        if (n == 0)
        {
            BatchBufferPool.ReturnToOwner(data);
            data = null;
            return new Batch(number, torch.empty(dims, torch.float32), torch.tensor(labels), [], [], skipped);
        }
        if (n * shape.Length != data!.Length)
        {
            // samples were skipped (--skip-bad-files): the array of the shorter batch is one of its own length
            var exact = _pool.Rent(n * shape.Length);
            data.AsSpan(0, exact.Length).CopyTo(exact);
            BatchBufferPool.ReturnToOwner(data);
            data = exact;
        }
        var images = ImageView(data, dims);
        var batch = new Batch(number, images, torch.tensor(labels), indices.ToArray(), positions.ToArray(), skipped, data);
        data = null;                                        // the batch owns it now
        return batch;
    }

    /// <summary>A tensor of shape <paramref name="dims"/> over <paramref name="data"/> (shared memory, no copy).</summary>
    public static torch.Tensor ImageView(float[] data, long[] dims)
    {
        using var flat = torch.frombuffer(data, torch.float32);
        return flat.view(dims);
    }
}

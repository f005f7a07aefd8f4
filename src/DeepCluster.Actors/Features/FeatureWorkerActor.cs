using System.IO.Hashing;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;

namespace DeepCluster.Actors.Features;

/// <summary>
/// Computes ranges of a feature pass: announces itself to the pass (<see cref="WorkerAvailable"/>), then computes each
/// <see cref="AssignRange"/> with batches from its node's data loader and the model file the range names, writes the
/// rows to the range's file (atomic rename: a range file is whole or absent) and replies <see cref="RangeComputed"/>
/// with its size and checksum, which is also its request for the next range. Only paths and numbers cross between the
/// pass and its workers, so a worker can run on any node that sees the experiment folder and the dataset. Ranges given
/// while one is being computed (by another pass: a worker may serve several experiments) wait their turn.
/// </summary>
public sealed class FeatureWorkerActor : ReceiveActor
{
    readonly IActorRef pass;
    readonly BatchConsumer consumer;
    readonly ILoggingAdapter log = Context.GetLogger();
    FeatureRows? model;
    string? modelJob;         // the job the model was loaded for: kept across its ranges, freed by ReleaseJob
    AssignRange? range;
    IActorRef? replyTo;
    readonly Queue<(AssignRange Range, IActorRef ReplyTo)> queued = new();
    AtomicFile? output;
    XxHash3? hasher;
    int done, skipped;

    /// <param name="loader">The data loader of this node.</param>
    /// <param name="pass">The feature pass to announce this worker to.</param>
    public FeatureWorkerActor(IActorRef loader, IActorRef pass)
    {
        this.pass = pass;
        consumer = new BatchConsumer(loader, Hosting.DeepClusterSettings.Of(Context.System).PullWindow);
        Receive<AssignRange>(a =>
        {
            queued.Enqueue((a, Sender));
            if (range is null) StartNext();
        });
        Receive<ReleaseJob>(r =>
        {
            var keep = queued.Where(q => q.Range.JobId != r.JobId).ToList();
            queued.Clear();
            keep.ForEach(queued.Enqueue);
            if (modelJob == r.JobId && range?.JobId != r.JobId) FreeModel();
            if (range?.JobId == r.JobId)
            {
                Abandon();
                FreeModel();
                StartNext();
            }
        });
        Receive<FeatureWorkersWanted>(w => w.Pass.Tell(new WorkerAvailable(Self, Started: false)));
        Receive<StreamOpened>(o => consumer.Accept(o, Self));
        Receive<BatchLoaded>(b => consumer.Owns(b.StreamId), OnBatch);
        Receive<BatchLoaded>(b => b.Release());      // of a range abandoned since
        Receive<StreamCompleted>(c => consumer.Owns(c.StreamId), _ => Finish());
        Receive<StreamFailed>(f => consumer.Owns(f.StreamId), f => Fail(f.Error));
    }

    public static Props Props(IActorRef loader, IActorRef pass) => Akka.Actor.Props.Create(() => new FeatureWorkerActor(loader, pass));

    void StartNext()
    {
        if (!queued.TryDequeue(out var next)) return;
        var a = next.Range;
        range = a; replyTo = next.ReplyTo; done = 0; skipped = 0;
        try
        {
            if (modelJob != a.JobId || model is null)
            {
                FreeModel();
                model = FeatureRows.Load(a.ModelPath, a.Arch, a.Sobel, a.Device, PrecisionNames.Parse(a.Precision));
                modelJob = a.JobId;
            }
            consumer.Open(new OpenStream($"features-{a.Epoch}-{a.Start}-{Guid.NewGuid():N}", a.Dataset, TransformKind.Features,
                model.InputSize, a.BatchSize, a.Workers, 0, a.Epoch, RangeStart: a.Start, RangeCount: a.Count), Self);
        }
        catch (Exception e) { Fail(e.Message); }
    }

    void OnBatch(BatchLoaded b)
    {
        try { Compute(b); }
        finally { b.Release(); }     // the batch's images go back to the loader's pool
    }

    void Compute(BatchLoaded b)
    {
        try
        {
            var r = range!;
            if (output is null)
            {
                output = new AtomicFile(r.OutPath);
                hasher = new XxHash3();
                var header = new MemoryStream();
                NpyHeader.Write(header, "<f4", [r.Count, model!.Dim]);
                Write(header.ToArray());
            }
            int first = r.Start + b.Number * r.BatchSize, expected = Math.Min(r.BatchSize, r.Start + r.Count - first);
            var rows = model!.Compute(b, first, expected, out var missing);
            Write(MemoryMarshal.AsBytes(rows.AsSpan()));
            skipped += missing;
            done += expected;
            consumer.Consumed(b, Self);
            replyTo.Tell(new RangeProgress(r.JobId, r.Start, done));
        }
        catch (Exception e) { Fail(e.Message); }
    }

    void Write(ReadOnlySpan<byte> bytes)
    {
        output!.Stream.Write(bytes);
        hasher!.Append(bytes);
    }

    void Finish()
    {
        try
        {
            var r = range!;
            if (output is null || done != r.Count)
                throw new InvalidDataException($"{r.Dataset.Path}: images {r.Start}..{r.Start + r.Count - 1}: {done} of {r.Count} read.");
            var size = output.Stream.Length;
            output.Commit();
            output = null;
            var file = new FeatureRangeFile(r.Start, r.Count, r.OutPath, size, hasher!.GetCurrentHashAsUInt64().ToString("x16"));
            replyTo.Tell(new RangeComputed(r.JobId, file, model!.Dim, skipped));
            range = null;
        }
        catch (Exception e) { Fail(e.Message); return; }
        StartNext();
    }

    void Fail(string error)
    {
        log.Error("feature range failed: {0}", error);
        if (range is { } r) replyTo.Tell(new RangeFailed(r.JobId, r.Start, error));
        Abandon();
        StartNext();
    }

    /// <summary>Stops the current range, if any: its stream is closed and its unfinished file removed.</summary>
    void Abandon()
    {
        consumer.Close(Self);
        output?.Dispose();    // not committed: the temporary file is removed
        output = null;
        range = null;
    }

    void FreeModel()
    {
        model?.Dispose();
        model = null;
        modelJob = null;
    }

    protected override void PreStart()
    {
        TorchRuntime.FlushDenormals();   // this actor's own thread
        pass.Tell(new WorkerAvailable(Self));
    }

    protected override void PostStop()
    {
        Abandon();
        FreeModel();
        base.PostStop();
    }
}

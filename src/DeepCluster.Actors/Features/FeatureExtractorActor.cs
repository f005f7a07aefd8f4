using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Progress;
using System.Runtime.InteropServices;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Features;

/// <summary>Computes the features of the whole dataset with the model saved at <paramref name="ModelPath"/>.</summary>
public sealed record ExtractFeatures(
    int Epoch, string ModelPath, string Arch, bool Sobel, DatasetSpec Dataset, int BatchSize, int Workers,
    string? Device, string OutPath);

/// <summary>The N×D float32 features are in <paramref name="Path"/> (.npy).</summary>
public sealed record FeaturesExtracted(int Epoch, string Path, int Count, int Dim, double Seconds, string? TrueLabelsPath);

/// <summary>The feature pass failed; the message says why.</summary>
public sealed record FeaturesFailed(int Epoch, string Error);

/// <summary>
/// The feature pass (main.py's <c>compute_features</c>): the model in eval mode, head removed and the classifier's
/// last ReLU dropped, over every image once, in dataset order. Loads the weights from a file, so it shares no
/// state with the trainer and can run on another node. Building the model draws from torch's default generator (the
/// weights are then overwritten) and eval mode draws nothing; the trainer seeds each of its own draws, so this pass
/// changes nothing downstream however often it is repeated after a crash.
/// </summary>
public sealed class FeatureExtractorActor : ReceiveActor
{
    readonly BatchConsumer consumer;
    readonly ILoggingAdapter log = Context.GetLogger();
    ExtractFeatures? job;
    IActorRef? requester;
    DeepClusterNet? model;
    Device device = CPU;
    AtomicFile? output;       // the .npy being written, row i = image i (streamed: ImageNet's 1.28M × 4096 never sits in memory)
    int dim, done, skipped;
    Stopwatch clock = new();

    public FeatureExtractorActor(IActorRef loader)
    {
        consumer = new BatchConsumer(loader, Hosting.DeepClusterSettings.Of(Context.System).PullWindow);
        Receive<ExtractFeatures>(Start);
        Receive<StreamOpened>(o => consumer.Accept(o, Self));
        Receive<BatchLoaded>(b => consumer.Owns(b.StreamId), OnBatch);
        Receive<StreamCompleted>(c => consumer.Owns(c.StreamId), _ => Finish());
        Receive<StreamFailed>(f => consumer.Owns(f.StreamId), f => Fail(f.Error));
    }

    public static Props Props(IActorRef loader) => Akka.Actor.Props.Create(() => new FeatureExtractorActor(loader));

    void Start(ExtractFeatures msg)
    {
        try
        {
            job = msg; requester = Sender; done = 0; skipped = 0;
            output?.Dispose(); output = null;
            clock = Stopwatch.StartNew();
            device = TorchRuntime.ResolveDevice(msg.Device);
            model?.Dispose();
            model = ModelFiles.LoadModel(msg.ModelPath, msg.Arch, msg.Sobel, device);
            model.eval();
            dim = model.FeatureDim;
            consumer.Open(new OpenStream($"features-{msg.Epoch}-{Guid.NewGuid():N}", msg.Dataset, TransformKind.Features,
                model.InputSize, msg.BatchSize, msg.Workers, 0, msg.Epoch), Self);
        }
        catch (Exception e) { Fail(e.Message); }
    }

    void OnBatch(BatchLoaded b)
    {
        try
        {
            var total = consumer.Opened!.Samples;
            if (output is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(job!.OutPath)!);
                output = new AtomicFile(job.OutPath);
                NpyHeader.Write(output.Stream, "<f4", [total, dim]);
            }
            float[] rows;
            using (var scope = NewDisposeScope())
            using (inference_mode())
            {
                var x = tensor(b.Images, b.Shape).to(device);
                rows = model!.Embed(x).to(CPU).contiguous().data<float>().ToArray();
            }
            // Batches come in dataset order; an image the loader skipped (--skip-bad-files) keeps its row, filled with
            // the batch's mean feature, so that row i is always image i.
            int first = b.Number * job!.BatchSize, expected = Math.Min(job.BatchSize, total - first);
            if (b.Indices.Length != expected) rows = FillSkipped(rows, b.Indices, first, expected);
            output.Stream.Write(MemoryMarshal.AsBytes(rows.AsSpan()));
            skipped += expected - b.Indices.Length;
            done += expected;
            consumer.Consumed(b, Self);
            requester.Tell(new PhaseProgress(job!.Epoch, Phase.Features, done, total,
                done / Math.Max(1e-9, clock.Elapsed.TotalSeconds), "img"));
        }
        catch (Exception e) { consumer.Close(Self); Fail(e.Message); }
    }

    void Finish()
    {
        try
        {
            var n = done;
            if (output is null) throw new InvalidDataException($"{job!.Dataset.Path}: no image could be read.");
            output.Commit();
            output = null;
            if (skipped > 0)
                requester.Tell(new ExperimentLog(
                    $"epoch {job!.Epoch}: {skipped} unreadable image(s) skipped; their feature rows hold their batch's mean"));
            string? labelsPath = null;
            if (consumer.Opened?.TrueLabels is { } labels && labels.Length == n)
            {
                labelsPath = Path.Combine(Path.GetDirectoryName(job.OutPath)!, "true_labels.npy");
                NpyFile.WriteInt64(labelsPath, labels.Select(l => (long)l).ToArray());
            }
            requester.Tell(new FeaturesExtracted(job!.Epoch, job.OutPath, n, dim, clock.Elapsed.TotalSeconds, labelsPath));
        }
        catch (Exception e) { Fail(e.Message); return; }
        Release();
    }

    void Fail(string error)
    {
        log.Error("feature pass failed: {0}", error);
        requester?.Tell(new FeaturesFailed(job?.Epoch ?? -1, error));
        Release();
    }

    static float[] FillSkipped(float[] rows, int[] indices, int first, int expected)
    {
        int d = rows.Length / Math.Max(1, indices.Length);
        var mean = new float[d];
        for (int r = 0; r < indices.Length; r++)
            for (int j = 0; j < d; j++) mean[j] += rows[r * d + j] / indices.Length;
        var full = new float[expected * d];
        for (int p = 0; p < expected; p++) mean.CopyTo(full, p * d);
        for (int r = 0; r < indices.Length; r++) Array.Copy(rows, r * d, full, (indices[r] - first) * d, d);
        return full;
    }

    void Release()
    {
        output?.Dispose();      // not committed: the temporary file is removed
        output = null;
        model?.Dispose();
        model = null;
        job = null;
    }

    protected override void PreStart() => TorchRuntime.FlushDenormals();   // this actor's own thread

    protected override void PostStop() { model?.Dispose(); base.PostStop(); }
}

using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Progress;
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
/// state with the trainer and can run on another node.
/// </summary>
public sealed class FeatureExtractorActor : ReceiveActor
{
    readonly BatchConsumer consumer;
    readonly ILoggingAdapter log = Context.GetLogger();
    ExtractFeatures? job;
    IActorRef? requester;
    DeepClusterNet? model;
    Device device = CPU;
    float[]? features;
    int dim, done;
    Stopwatch clock = new();

    public FeatureExtractorActor(IActorRef loader)
    {
        consumer = new BatchConsumer(loader);
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
            job = msg; requester = Sender; done = 0; features = null;
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
            if (features is null) features = new float[(long)consumer.Opened!.Samples * dim];
            using (var scope = NewDisposeScope())
            using (inference_mode())
            {
                var x = tensor(b.Images, b.Shape).to(device);
                var f = model!.Embed(x).to(CPU).contiguous();
                f.data<float>().CopyTo(features.AsSpan(done * dim, b.Indices.Length * dim));
            }
            done += b.Indices.Length;
            consumer.Consumed(b, Self);
            var total = consumer.Opened!.Samples;
            Context.System.EventStream.Publish(new PhaseProgress(job!.Epoch, Phase.Features, done, total,
                done / Math.Max(1e-9, clock.Elapsed.TotalSeconds), "img"));
        }
        catch (Exception e) { consumer.Close(Self); Fail(e.Message); }
    }

    void Finish()
    {
        try
        {
            var n = done;
            Directory.CreateDirectory(Path.GetDirectoryName(job!.OutPath)!);
            NpyFile.WriteFloat32Matrix(job.OutPath, features.AsSpan(0, n * dim), n, dim);
            string? labelsPath = null;
            if (consumer.Opened?.TrueLabels is { } labels && labels.Length == n)
            {
                labelsPath = Path.Combine(Path.GetDirectoryName(job.OutPath)!, "true_labels.npy");
                NpyFile.WriteInt64(labelsPath, labels.Select(l => (long)l).ToArray());
            }
            requester.Tell(new FeaturesExtracted(job.Epoch, job.OutPath, n, dim, clock.Elapsed.TotalSeconds, labelsPath));
        }
        catch (Exception e) { Fail(e.Message); return; }
        finally { features = null; }
        Release();
    }

    void Fail(string error)
    {
        log.Error("feature pass failed: {0}", error);
        requester?.Tell(new FeaturesFailed(job?.Epoch ?? -1, error));
        features = null;
        Release();
    }

    void Release()
    {
        model?.Dispose();
        model = null;
        job = null;
    }

    protected override void PreStart() => TorchRuntime.FlushDenormals();   // this actor's own thread

    protected override void PostStop() { model?.Dispose(); base.PostStop(); }
}

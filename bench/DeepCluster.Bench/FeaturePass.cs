// `dcbench features IMAGES [WORKERS] [RANGE] [BATCH] [DECODERS]`: the range-based feature pass (FeaturePassActor and
// WORKERS FeatureWorkerActors in one process, on the compute dispatcher as the pipeline runs them) over the first IMAGES
// Fashion-MNIST images with a fresh alexnet_small (Sobel), ranges of RANGE images (0: one range, i.e. what the single
// feature actor did). Prints the images/s of the whole pass, assembly of the features file included.
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Models;
using DeepCluster.Core.Training;
using static TorchSharp.torch;

static class FeaturePass
{
    const string Data = "/usr/share/datasets/fashion-mnist";
    const string Compute = "deepcluster.compute-dispatcher";

    /// <summary>Stands in for the experiment: counts the ranges, completes with the result.</summary>
    sealed class Requester : ReceiveActor
    {
        int ranges;

        public Requester(TaskCompletionSource<object> done)
        {
            Receive<FeatureRangeWritten>(_ => ranges++);
            Receive<FeaturesExtracted>(e => done.TrySetResult((e, ranges)));
            Receive<FeaturesFailed>(f => done.TrySetResult(f));
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        int images = Arg(0, 10_000), workers = Arg(1, 1), range = Arg(2, 2048), batch = Arg(3, 256), decoders = Arg(4, 1);
        var root = Path.Combine(Path.GetTempPath(), $"dcbench-features-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        try
        {
            var model = Path.Combine(root, "model.pth.tar");
            manual_seed(0);
            using (var m = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0))
            using (var opt = optim.SGD(m.TrunkParameters(), 0.1, 0.9))
                ModelFiles.Save(model, m, opt, 0, "alexnet_small");
            var hocon = ConfigurationFactory.ParseString($"deepcluster.features.range-images = {(range == 0 ? 1 << 30 : range)}")
                .WithFallback(HostConfig.Load(null).Hocon);
            using var system = ActorSystem.Create("dcbench", hocon);
            var loader = system.ActorOf(DataLoaderActor.Props(), "data-loader");
            var pass = system.ActorOf(FeaturePassActor.Props(loader).WithDispatcher(Compute), "feature-extractor");
            for (var i = 0; i < workers; i++)
                system.ActorOf(FeatureWorkerActor.Props(loader, pass).WithDispatcher(Compute), $"feature-worker-{i}");
            var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            var requester = system.ActorOf(Props.Create(() => new Requester(done)));
            var clock = Stopwatch.StartNew();
            pass.Tell(new ExtractFeatures(0, model, "alexnet_small", true, new DatasetSpec(Data, Limit: images), batch, decoders,
                "cpu", Path.Combine(root, "features.npy")), requester);
            var result = await done.Task;
            var seconds = clock.Elapsed.TotalSeconds;
            if (result is FeaturesFailed f) { Console.Error.WriteLine(f.Error); return 1; }
            var (e, ranges) = ((FeaturesExtracted, int))result;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"features: {e.Count} images, {workers} worker(s), {ranges} range(s) of {(range == 0 ? e.Count : range)}, batch {batch}, " +
                $"{decoders} decoder(s)/worker: {seconds:F2} s, {e.Count / seconds:F0} img/s"));
            await system.Terminate();
            return 0;
        }
        finally { try { Directory.Delete(root, true); } catch { /* best effort */ } }
    }
}

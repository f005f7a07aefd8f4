// `dcbench overhead [ROUNDS] [IMAGES]`: the feature pass and the training epoch of the protocol's data (the first IMAGES
// Fashion-MNIST images, alexnet_small with Sobel, batch 256, 2 decoders, k = 100) timed twice in one process: in a bare
// loop (BatchLoader + model on the main thread, as `dcbench 2 N` times the steps) and inside the pipeline (the data
// loader actor, the feature pass with one feature worker and the trainer actor, on the compute dispatcher as
// `deepcluster train` runs them). ROUNDS rounds in ABBA order; prints each figure and the pipeline/bare ratios.
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Training;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using static TorchSharp.torch;

static class Overhead
{
    const string Data = "/usr/share/datasets/fashion-mnist";
    const string Compute = "deepcluster.compute-dispatcher";
    const int Batch = 256, Decoders = 2, Clusters = 100, Seed = 31;

    /// <summary>Stands in for the experiment: completes with the first result message it gets.</summary>
    sealed class Requester : ReceiveActor
    {
        public Requester(Func<TaskCompletionSource<object>> done)
        {
            Receive<FeaturesExtracted>(e => done().TrySetResult(e));
            Receive<FeaturesFailed>(f => done().TrySetResult(f));
            Receive<ModelInitialized>(m => done().TrySetResult(m));
            Receive<EpochTrained>(e => done().TrySetResult(e));
            Receive<TrainingFailed>(f => done().TrySetResult(f));
            ReceiveAny(_ => { });
        }
    }

    /// <summary>Wall seconds, CPU seconds (user, kernel) and minor page faults of this process over one measured phase.</summary>
    readonly record struct Cost(double Wall, double User, double Sys, long Faults)
    {
        public static Cost operator +(Cost a, Cost b) => new(a.Wall + b.Wall, a.User + b.User, a.Sys + b.Sys, a.Faults + b.Faults);
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Wall:F2} s (cpu {User:F2} user + {Sys:F2} sys, {Faults / 1000.0:F0} k faults)");
    }

    static async Task<Cost> Measure(Func<Task> phase)
    {
        var p = Process.GetCurrentProcess();
        p.Refresh();
        var (u, k, f) = (p.UserProcessorTime, p.PrivilegedProcessorTime, MinorFaults());
        var clock = Stopwatch.StartNew();
        await phase();
        var wall = clock.Elapsed.TotalSeconds;
        p.Refresh();
        return new Cost(wall, (p.UserProcessorTime - u).TotalSeconds, (p.PrivilegedProcessorTime - k).TotalSeconds, MinorFaults() - f);
    }

    /// <summary>minflt of /proc/self/stat (0 where there is none).</summary>
    static long MinorFaults()
    {
        if (!File.Exists("/proc/self/stat")) return 0;
        var stat = File.ReadAllText("/proc/self/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7], CultureInfo.InvariantCulture);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
        int images = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        TorchRuntime.FlushDenormals();
        var root = Path.Combine(Path.GetTempPath(), $"dcbench-overhead-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        try
        {
            var sgd = new SgdSettings();
            var modelPath = Path.Combine(root, "model.pth.tar");
            manual_seed(0);
            using (var m = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0))
            using (var opt = optim.SGD(m.TrunkParameters(), 0.1, 0.9))
                ModelFiles.Save(modelPath, m, opt, 0, "alexnet_small");
            var rng = new Random(Seed);
            var order = Enumerable.Range(0, images).OrderBy(_ => rng.Next()).ToArray();
            var labels = order.Select(_ => rng.Next(Clusters)).ToArray();
            var orderPath = Path.Combine(root, "order.npy");
            var labelsPath = Path.Combine(root, "labels.npy");
            NpyFile.WriteInt64(orderPath, order.Select(v => (long)v).ToArray());
            NpyFile.WriteInt64(labelsPath, labels.Select(v => (long)v).ToArray());
            var dataset = IdxDataset.FromFolder(Data, "train", images);
            var spec = new DatasetSpec(Data, Limit: images);

            using var system = ActorSystem.Create("dcbench", HostConfig.Load(null).Hocon);
            var done = new TaskCompletionSource<object>();
            var requester = system.ActorOf(Props.Create(() => new Requester(() => done)));
            var loader = system.ActorOf(DataLoaderActor.Props(), "data-loader");
            var pass = system.ActorOf(FeaturePassActor.Props(loader).WithDispatcher(Compute), "feature-extractor");
            system.ActorOf(FeatureWorkerActor.Props(loader, pass).WithDispatcher(Compute), "feature-worker-0");
            var trainer = system.ActorOf(TrainerActor.Props(loader).WithDispatcher(Compute), "trainer");
            async Task<object> Ask(IActorRef to, object message)
            {
                done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
                to.Tell(message, requester);
                var result = await done.Task;
                if (result is FeaturesFailed or TrainingFailed) throw new InvalidOperationException(result.ToString());
                return result;
            }
            await Ask(trainer, new InitializeModel("alexnet_small", true, Seed, sgd, "cpu", null, Path.Combine(root, "init.pth.tar")));

            void BareFeatures()
            {
                using var model = ModelFiles.LoadModel(modelPath, "alexnet_small", true, CPU);
                model.eval();
                foreach (var b in new BatchLoader(dataset, DeepClusterTransforms.Features(model.InputSize), null, Batch, Decoders))
                    using (b)
                    using (NewDisposeScope())
                    using (inference_mode())
                        _ = model.Embed(b.Images).contiguous().data<float>().ToArray();
            }
            void BareTraining(int epoch)
            {
                using var model = ModelFiles.LoadModel(modelPath, "alexnet_small", true, CPU);
                using var t = new Trainer(model, sgd, CPU);
                t.ResetHead(Clusters, TrainingSeeds.Head(Seed, epoch));
                int iteration = 0;
                foreach (var b in new BatchLoader(dataset, DeepClusterTransforms.Training(model.InputSize), order, Batch, Decoders,
                                                  seed: Seed, epoch: epoch, labels: labels))
                    using (b) t.Step(b.Images, b.Labels, TrainingSeeds.Dropout(Seed, epoch, iteration++));
            }
            async Task PipelineFeatures(int epoch)
            {
                await Ask(pass, new ExtractFeatures(epoch, modelPath, "alexnet_small", true, spec, Batch, Decoders, "cpu",
                    Path.Combine(root, $"features-{epoch}.npy")));
            }
            async Task PipelineTraining(int epoch)
            {
                var checkpoints = Path.Combine(root, "checkpoints");
                Directory.CreateDirectory(checkpoints);
                await Ask(trainer, new TrainEpoch(epoch, "alexnet_small", true, sgd, "cpu", spec, Batch, Decoders, Seed,
                    orderPath, labelsPath, Clusters, modelPath, 0, 0, 0, 1_000_000, checkpoints, Path.Combine(root, $"epoch-{epoch}.pth.tar")));
            }

            // warm-up (oneDNN primitive caches, JIT): one of each, untimed
            BareFeatures(); await PipelineFeatures(0); BareTraining(0); await PipelineTraining(0);
            var names = new[] { "bare features", "pipeline features", "bare training", "pipeline training" };
            var total = names.ToDictionary(n => n, _ => default(Cost));
            for (int r = 0; r < rounds; r++)
            {
                var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
                int epoch = r + 1;
                var run = new Dictionary<string, Func<Task>>
                {
                    ["bare features"] = () => { BareFeatures(); return Task.CompletedTask; },
                    ["pipeline features"] = () => PipelineFeatures(epoch),
                    ["bare training"] = () => { BareTraining(epoch); return Task.CompletedTask; },
                    ["pipeline training"] = () => PipelineTraining(epoch),
                };
                // ABBA over the rounds: a drift in the machine's speed weighs on both sides alike
                var sequence = r % 2 == 0 ? names : [names[1], names[0], names[3], names[2]];
                Console.WriteLine($"round {r} (load {load}):");
                foreach (var n in sequence)
                {
                    var c = await Measure(run[n]);
                    total[n] += c;
                    Console.WriteLine($"  {n,-18} {c}");
                }
            }
            double batches = Math.Ceiling(images / (double)Batch) * rounds;
            foreach (var phase in new[] { "features", "training" })
            {
                Cost bare = total["bare " + phase], pipe = total["pipeline " + phase];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{phase}: bare {bare.Wall / batches:F3} s/batch, pipeline {pipe.Wall / batches:F3} s/batch: pipeline at " +
                    $"{bare.Wall / pipe.Wall:P0} of the bare loop's speed; cpu per batch {(bare.User + bare.Sys) / batches:F3} vs " +
                    $"{(pipe.User + pipe.Sys) / batches:F3} s, faults per batch {bare.Faults / batches:F0} vs {pipe.Faults / batches:F0}"));
            }
            await system.Terminate();
            return 0;
        }
        finally { try { Directory.Delete(root, true); } catch { /* best effort */ } }
    }
}

// Micro-benchmark of the pieces of a DeepCluster epoch on alexnet_small (28×28, Sobel, batch 256): the feature pass's
// forward, the SGD step, and the data loader with each transform. bench/steps/run.sh runs it beside PyTorch.
//   dotnet run -c Release --project bench/DeepCluster.Bench -- [threads] [batches] [arch] [batch] [cpu|cuda] [fp32|bf16] [benchmark]
//     (bf16: the forward passes under bf16 autocast, as --precision bf16, lines inference_bf16 / train_bf16, no loader;
//      benchmark: cudnn.benchmark on, as torch.backends.cudnn.benchmark = True)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- pipeline IMAGES ARCH DEVICE [WORKERS] [EPOCHS] [K]
//     (the whole actor pipeline on synthetic images: Pipeline.cs)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- features IMAGES [WORKERS] [RANGE] [BATCH] [DECODERS]
//     (the range-based feature pass with WORKERS local workers: FeaturePass.cs)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- kmeans ROWS DIM K WORKERS [NITER]
//     (k-means over WORKERS in-process k-means workers beside the single-node clustering: KMeansBench.cs)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- overhead [ROUNDS] [IMAGES]
//     (the feature pass and the training epoch on the protocol's data, bare loop vs inside the actors: Overhead.cs)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- loader DIR THREADS [EPOCH_IMAGES] [BATCH]
//     (the 224² training loader on an ImageFolder of JPEGs, img/s: LoaderBench.cs; bench/loader/run.sh)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- pack DIR OUT [MAX_SIDE] | loader-pack PACK THREADS [EPOCH_IMAGES] [BATCH]
//     (the same loader on a pack of `deepcluster pack`: PackBench.cs; bench/loader/run.sh)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- trainloop IMAGES THREADS LOADER_WORKERS fp32|bf16...
//     (the training step in a bare loop on real Fashion-MNIST batches, one epoch per precision given: TrainLoopBench.cs)
//   dotnet run -c Release --project bench/DeepCluster.Bench -- clusterslog EPOCHS IMAGES K
//     (an epoch's end of the clusters log, unpickling the whole log vs kept in memory: ClustersLogBench.cs)
// On a GPU machine (bench/gpu/run.sh): dcbench 16 20 alexnet 256 cuda, beside ../shared/gpu/pytorch_alexnet_bench.py.
using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

if (args.Length > 0 && args[0] == "pipeline") return await Pipeline.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "features") return await FeaturePass.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "kmeans") return await KMeansBench.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "overhead") return await Overhead.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "loader") return LoaderBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "pack") return PackBench.Pack(args[1..]);
if (args.Length > 0 && args[0] == "loader-pack") return PackBench.Loader(args[1..]);
if (args.Length > 0 && args[0] == "trainloop") return TrainLoopBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "clusterslog") return ClustersLogBench.Run(args[1..]);
TorchRuntime.FlushDenormals();
set_num_threads(args.Length > 0 ? int.Parse(args[0]) : 2);
int batches = args.Length > 1 ? int.Parse(args[1]) : 20;
var arch = args.Length > 2 ? args[2] : "alexnet_small";
int batch = args.Length > 3 ? int.Parse(args[3]) : 256;
var device = TorchRuntime.ResolveDevice(args.Length > 4 ? args[4] : "cpu");
var precision = PrecisionNames.Parse(args.Length > 5 ? args[5] : "fp32");
Bf16Support.Require(precision, device);
if (args.Length > 6 && args[6] == "benchmark") CudnnBenchmark.Enabled = true;
var suffix = precision == Precision.Bf16 ? "_bf16" : "";
manual_seed(0);
using var model = ModelFactory.Create(arch, sobel: arch == "alexnet_small", numClasses: 0);
model.to(device);
using var x = randn(batch, 3, model.InputSize, model.InputSize, device: device);
using var y = randint(0, arch == "alexnet_small" ? 100 : 10000, [batch], dtype: int64, device: device);
Console.WriteLine($"{arch}, batch {batch}, {device}, {get_num_threads()} threads, {precision.Name()}, channels-last" +
                  (CudnnBenchmark.Enabled ? ", cudnn.benchmark" : ""));

model.eval();
Report("inference" + suffix, Time(() =>
{
    using var s = NewDisposeScope(); using var _ = inference_mode(); using var cast = Autocast.Enter(device, precision);
    model.Embed(x);
}));
using var trainer = new Trainer(model, new SgdSettings(), device, precision);
trainer.ResetHead(arch == "alexnet_small" ? 100 : 10000);
Report("train" + suffix, Time(() => trainer.Step(x, y)));

if (arch != "alexnet_small" || precision != Precision.Fp32) return 0;
var ds = IdxDataset.FromFolder("/usr/share/datasets/fashion-mnist", "train", 10_000);
foreach (var (name, t) in new[] { ("loader_features", DeepClusterTransforms.Features(28)), ("loader_training", DeepClusterTransforms.Training(28)) })
{
    var sw = Stopwatch.StartNew(); int n = 0;
    foreach (var b in new BatchLoader(ds, t, null, batch, workers: 2)) using (b) n += b.Count;
    Report(name, n / sw.Elapsed.TotalSeconds);
}
return 0;

double Time(Action step)
{
    for (int i = 0; i < 5; i++) step();   // warm-up: oneDNN / cuDNN primitive caches
    if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < batches; i++) step();
    if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
    return batch * batches / sw.Elapsed.TotalSeconds;
}

static void Report(string name, double imagesPerSecond) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {imagesPerSecond:F0} img/s"));

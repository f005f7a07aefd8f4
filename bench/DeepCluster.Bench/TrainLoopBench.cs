using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Training;
using static TorchSharp.torch;

/// <summary>
/// The training step in a bare loop on real data: alexnet_small + Sobel, k = 100, on the first IMAGES Fashion-MNIST images
/// with the training transforms and a dropout seed per step, as the trainer actor steps them, for one epoch per precision
/// in the order given (e.g. fp32 bf16 bf16 fp32: ABBA), each from the same initial model.
///   dcbench trainloop IMAGES THREADS LOADER_WORKERS PRECISION...
/// </summary>
static class TrainLoopBench
{
    public static int Run(string[] args)
    {
        int images = int.Parse(args[0], CultureInfo.InvariantCulture);
        TorchRuntime.FlushDenormals();
        set_num_threads(int.Parse(args[1], CultureInfo.InvariantCulture));
        var ds = IdxDataset.FromFolder("/usr/share/datasets/fashion-mnist", "train", images);
        var labels = ds.Labels.Select(l => l * 10 % 100).ToArray();
        int workers = int.Parse(args[2], CultureInfo.InvariantCulture);
        foreach (var name in args[3..])
        {
            var precision = PrecisionNames.Parse(name);
            manual_seed(31);
            using var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
            using var trainer = new Trainer(model, new SgdSettings(), CPU, precision);
            trainer.ResetHead(100, seed: 1);
            double seconds = 0, loss = 0; int n = 0;
            foreach (var b in new BatchLoader(ds, DeepClusterTransforms.Training(28), null, 256, workers, seed: 31, labels: labels))
                using (b)
                {
                    var sw = Stopwatch.StartNew();
                    loss += trainer.Step(b.Images, b.Labels, dropoutSeed: b.Number) * b.Count;
                    seconds += sw.Elapsed.TotalSeconds; n += b.Count;
                }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trainloop_{name} {n / seconds:F0} img/s (step time only), mean loss {loss / n:F3}"));
        }
        return 0;
    }
}

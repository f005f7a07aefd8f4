// `dcbench pipeline IMAGES ARCH DEVICE [WORKERS] [EPOCHS] [K]`: the whole actor pipeline (the same host as
// `deepcluster train`) on a synthetic ImageFolder made here: JPEGs of 500×375 for the 224² models (the size of a
// typical ImageNet photo, so decoding and RandomResizedCrop cost what they cost there), 28×28 PNGs for alexnet_small.
// Prints each epoch's phase times and the images/s the feature pass and the training sustained.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Models;
using SkiaSharp;

static class Pipeline
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: dcbench pipeline IMAGES ARCH DEVICE [WORKERS] [EPOCHS] [K]");
            return 2;
        }
        int images = int.Parse(args[0], CultureInfo.InvariantCulture);
        var arch = args[1];
        var device = args[2];
        int workers = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        int epochs = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 2;
        int k = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 100;
        int side;
        using (var probe = ModelFactory.Create(arch, sobel: false, numClasses: 0)) side = probe.InputSize;

        var root = Path.Combine(Path.GetTempPath(), $"dcbench-pipeline-{Environment.ProcessId}");
        try
        {
            var clock = Stopwatch.StartNew();
            var data = Path.Combine(root, "data");
            var (w, h) = side >= 224 ? (500, 375) : (side, side);
            WriteImages(data, images, w, h);
            Console.WriteLine($"pipeline: {images} synthetic {w}×{h} images written in {clock.Elapsed.TotalSeconds:F1} s; " +
                              $"{arch}, {device}, {workers} workers, {epochs} epoch(s), k = {k}");
            var config = new TrainConfig
            {
                Data = data, Exp = Path.Combine(root, "exp"), Arch = arch, Sobel = true, NmbCluster = k, Epochs = epochs,
                Workers = workers, Device = device, Verbose = true, Checkpoints = 1_000_000,
            };
            var outcome = await ExperimentHost.RunAsync(config, null, new LineObserver());
            if (!outcome.Success) { Console.Error.WriteLine($"pipeline failed: {outcome.Message}"); return 1; }
            foreach (var line in File.ReadLines(Path.Combine(config.Exp, "metrics.jsonl")))
            {
                var m = JsonDocument.Parse(line).RootElement;
                double F(string name) => m.GetProperty(name).GetDouble();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"pipeline epoch {m.GetProperty("epoch").GetInt32()}: {F("epoch_seconds"):F1} s; feature pass " +
                    $"{images / F("features_seconds"):F0} img/s, clustering {F("clustering_seconds"):F2} s, " +
                    $"training {F("train_images_per_second"):F0} img/s"));
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Ten class folders of seeded random images (blurred noise under a few shapes), written in parallel.</summary>
    static void WriteImages(string folder, int count, int width, int height)
    {
        var format = width >= 224 ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        var ext = format == SKEncodedImageFormat.Jpeg ? "jpg" : "png";
        for (int c = 0; c < 10; c++) Directory.CreateDirectory(Path.Combine(folder, $"class{c}"));
        Parallel.For(0, count, i =>
        {
            var rng = new Random(i);
            using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            var canvas = surface.Canvas;
            canvas.Clear(new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)));
            using var paint = new SKPaint { IsAntialias = true };
            for (int s = 0; s < 12; s++)
            {
                paint.Color = new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
                canvas.DrawCircle(rng.Next(width), rng.Next(height), rng.Next(2, Math.Max(3, width / 4)), paint);
            }
            using var image = surface.Snapshot();
            using var encoded = image.Encode(format, 90);
            using var file = File.Create(Path.Combine(folder, $"class{i % 10}", $"{i:D7}.{ext}"));
            encoded.SaveTo(file);
        });
    }

    /// <summary>Log lines as they come, and each phase's progress every 10 s.</summary>
    sealed class LineObserver : IExperimentObserver
    {
        readonly Dictionary<(int, Phase), DateTime> last = new();

        public void OnProgress(PhaseProgress p)
        {
            lock (last)
            {
                var now = DateTime.UtcNow;
                if (p.Done < p.Total && last.TryGetValue((p.Epoch, p.Phase), out var t) && now - t < TimeSpan.FromSeconds(10)) return;
                last[(p.Epoch, p.Phase)] = now;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  epoch {p.Epoch} {p.Phase.ToString().ToLowerInvariant()} {p.Done}/{p.Total} {p.Rate:F0} {p.Unit}/s"));
        }

        public void OnLog(string line) => Console.WriteLine("  " + line);
    }
}

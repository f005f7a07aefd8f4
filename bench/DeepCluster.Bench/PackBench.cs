// `dcbench pack DIR OUT [MAX_SIDE]`: packs an ImageFolder (`deepcluster pack`'s DatasetPacker, raw RGB) and prints its
// size and time. `dcbench loader-pack PACK THREADS [EPOCH_IMAGES] [BATCH]`: the training loader of `dcbench loader`
// (RandomResizedCrop(224), flip, ToTensor, Normalize into float32 batches of BATCH×3×224×224, THREADS workers) on a pack
// instead of the JPEGs: a warm-up batch, then one timed pass; prints `packed THREADS N img/s` and a one-thread
// breakdown (load from the mapping, crop+resize+flip, tensor+normalize). bench/loader/run.sh runs both.
using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using static TorchSharp.torch;

static class PackBench
{
    public static int Pack(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine("usage: dcbench pack DIR OUT [MAX_SIDE]"); return 2; }
        var options = new PackOptions { MaxSide = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : PackFormat.DefaultMaxSide, Force = true };
        var r = DatasetPacker.Pack(args[0], args[1], options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pack {r.Images} images, {r.Bytes / (1024.0 * 1024):F1} MiB ({r.Bytes / 1024.0 / r.Images:F0} KB each), shorter side <= {options.MaxSide}, " +
            $"in {r.Elapsed.TotalSeconds:F1} s with {Environment.ProcessorCount} threads"));
        return 0;
    }

    public static int Loader(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine("usage: dcbench loader-pack PACK THREADS [EPOCH_IMAGES] [BATCH]"); return 2; }
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        using var pack = PackedDataset.Open(args[0]);
        int threads = Arg(1, 1), images = Arg(2, pack.Count), batch = Arg(3, 256);
        if (threads < 1 || images < 1 || batch < 1) { Console.Error.WriteLine("dcbench loader-pack: THREADS, EPOCH_IMAGES and BATCH must be 1 or more"); return 2; }
        set_num_threads(1);
        var transform = DeepClusterTransforms.Training(224);
        var order = Enumerable.Range(0, images).Select(i => i % pack.Count).ToArray();
        foreach (var b in new BatchLoader(pack, transform, order[..Math.Min(batch, images)], batch, workers: threads, seed: 1)) b.Dispose();

        var clock = Stopwatch.StartNew();
        int n = 0;
        foreach (var b in new BatchLoader(pack, transform, order, batch, workers: threads, seed: 2))
            using (b)
            {
                if (b.Images.shape is not [_, 3, 224, 224] || b.Images.dtype != float32) throw new InvalidOperationException($"batch shape {string.Join("x", b.Images.shape)}");
                n += b.Count;
            }
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"packed {threads} {n / seconds:F1} img/s ({n} images in {seconds:F2} s, batch {batch}; {pack})"));

        double load = 0, crop = 0, tensor = 0;
        int count = Math.Min(256, pack.Count);
        var dest = new float[3 * 224 * 224];
        var watch = new Stopwatch();
        for (int i = 0; i < count; i++)
        {
            watch.Restart();
            var image = pack.Load(i);
            load += watch.Elapsed.TotalMilliseconds; watch.Restart();
            var crops = transform.ApplyImages(image, SampleRng.For(3, 0, i));
            crop += watch.Elapsed.TotalMilliseconds; watch.Restart();
            transform.WriteTensor(crops, dest);
            tensor += watch.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"breakdown (1 thread, ms/image over {count}): load {load / count:F3}, crop+resize+flip {crop / count:F3}, " +
            $"tensor+normalize {tensor / count:F3}; total {(load + crop + tensor) / count:F3}"));
        return 0;
    }
}

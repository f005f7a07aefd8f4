// `dcbench loader DIR THREADS [EPOCH_IMAGES] [BATCH]`: the training loader of main.py at ImageNet shape on an
// ImageFolder of JPEGs: decode, RandomResizedCrop(224) (scale 0.08–1, ratio 3/4–4/3), horizontal flip, ToTensor and
// Normalize (ImageNet mean/std) into float32 batches of BATCH×3×224×224, with THREADS decoding workers. A warm-up
// batch runs first (JIT, Skia and the page cache); the timed pass then covers EPOCH_IMAGES images (default: the
// folder). Prints `loader THREADS N img/s` (with the warm-up batch's per-channel means, to compare with the peer's), the timed
// pass's allocations, GCs and DCT-scaled decodes, a single-thread breakdown of where one image's time goes (step by step) and
// the single-thread time of the fused path the loader takes.
// bench/loader/run.sh runs it beside torchvision's DataLoader.
using System.Diagnostics;
using System.Globalization;
using DeepCluster.Core.Data;
using static TorchSharp.torch;

static class LoaderBench
{
    public static int Run(string[] args)
    {
        if (args.Length < 2) { Console.Error.WriteLine("usage: dcbench loader DIR THREADS [EPOCH_IMAGES] [BATCH]"); return 2; }
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        ImageFolder folder;
        try { folder = new ImageFolder(args[0]); }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException) { Console.Error.WriteLine($"dcbench loader: {e.Message}"); return 2; }
        int threads = Arg(1, 1), images = Arg(2, folder.Count), batch = Arg(3, 256);
        if (threads < 1 || images < 1 || batch < 1) { Console.Error.WriteLine("dcbench loader: THREADS, EPOCH_IMAGES and BATCH must be 1 or more"); return 2; }
        set_num_threads(1);                                       // the batch tensor copy only; decoding is ours
        var transform = DeepClusterTransforms.Training(224);
        var order = Enumerable.Range(0, images).Select(i => i % folder.Count).ToArray();

        int warm = 0;
        string means = "";
        foreach (var b in new BatchLoader(folder, transform, order[..Math.Min(batch, images)], batch, workers: threads, seed: 1))
            using (b)
            {
                warm += b.Count;
                using var m = b.Images.mean([0L, 2L, 3L]);
                means = string.Join(" ", m.data<float>().ToArray().Select(v => v.ToString("F3", CultureInfo.InvariantCulture)));
            }

        var before = FusedSampler.Counts;
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int n = 0;
        foreach (var b in new BatchLoader(folder, transform, order, batch, workers: threads, seed: 2))
            using (b)
            {
                if (b.Images.shape is not [_, 3, 224, 224] || b.Images.dtype != float32) throw new InvalidOperationException($"batch shape {string.Join("x", b.Images.shape)}");
                n += b.Count;
            }
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        allocated = GC.GetTotalAllocatedBytes() - allocated;
        var after = FusedSampler.Counts;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loader {threads} {n / seconds:F1} img/s ({n} images in {seconds:F2} s, batch {batch}, {warm} warm-up images, their channel means {means})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cpu {n / cpuSeconds:F1} img per CPU-second ({cpuSeconds:F2} CPU-s, all threads of the process)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"timed pass: {allocated / (double)n / 1024:F1} KB allocated per image (the batch's float array and tensor included: " +
            $"{3 * 224 * 224 * 4 / 1024} KB), GCs gen0 {GC.CollectionCount(0) - gen0} gen1 {GC.CollectionCount(1) - gen1} gen2 {GC.CollectionCount(2) - gen2}; " +
            $"fused path {after.Samples - before.Samples} images, {after.Jpegs - before.Jpegs} JPEGs decoded into reused buffers, " +
            $"DCT-scaled (jpeg-dct-scaling {(JpegDctScaling.Enabled ? "on" : "off")}): 1/2 {after.Half - before.Half}, 1/4 {after.Quarter - before.Quarter}, 1/8 {after.Eighth - before.Eighth}"));
        Breakdown(folder, transform, Math.Min(256, folder.Count));
        Fused(folder, transform, Math.Min(256, folder.Count));
        return 0;
    }

    /// <summary>One thread: the fused path (read, decode into reused buffers, crop+resize, flip+normalize into the sample's floats).</summary>
    static void Fused(ImageFolder folder, Compose transform, int count)
    {
        var sampler = FusedSampler.For(transform) ?? throw new InvalidOperationException("the training pipeline is not fused");
        var dest = new float[sampler.Shape.Length];
        for (int i = 0; i < Math.Min(16, count); i++) sampler.Write(folder, i, SampleRng.For(4, 0, i), dest);   // buffers, coefficients
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) sampler.Write(folder, i, SampleRng.For(3, 0, i), dest);
        var ms = clock.Elapsed.TotalMilliseconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fused (1 thread, over {count}): {ms / count:F3} ms/image, {allocated / (double)count:F0} bytes allocated per image"));
    }

    /// <summary>One thread, sample by sample: read file, decode, crop+resize+flip, ToTensor+Normalize (ms per image).</summary>
    static void Breakdown(ImageFolder folder, Compose transform, int count)
    {
        double read = 0, decode = 0, crop = 0, tensor = 0;
        var dest = new float[3 * 224 * 224];
        var clock = new Stopwatch();
        for (int i = 0; i < count; i++)
        {
            clock.Restart();
            var bytes = File.ReadAllBytes(folder.Paths[i]);
            read += clock.Elapsed.TotalMilliseconds; clock.Restart();
            var image = ImageCodec.Decode(bytes, folder.Paths[i]);
            decode += clock.Elapsed.TotalMilliseconds; clock.Restart();
            var crops = transform.ApplyImages(image, SampleRng.For(3, 0, i));
            crop += clock.Elapsed.TotalMilliseconds; clock.Restart();
            transform.WriteTensor(crops, dest);
            tensor += clock.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"breakdown (1 thread, ms/image over {count}): read {read / count:F3}, decode {decode / count:F3}, " +
            $"crop+resize+flip {crop / count:F3}, tensor+normalize {tensor / count:F3}; total {(read + decode + crop + tensor) / count:F3}"));
    }
}

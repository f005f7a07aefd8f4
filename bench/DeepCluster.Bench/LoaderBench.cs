// `dcbench loader DIR THREADS [EPOCH_IMAGES] [BATCH]`: the training loader of main.py at ImageNet shape on an
// ImageFolder of JPEGs: decode, RandomResizedCrop(224) (scale 0.08–1, ratio 3/4–4/3), horizontal flip, ToTensor and
// Normalize (ImageNet mean/std) into float32 batches of BATCH×3×224×224, with THREADS decoding workers. A warm-up
// batch runs first (JIT, Skia and the page cache); the timed pass then covers EPOCH_IMAGES images (default: the
// folder). Prints `loader THREADS N img/s` (with the warm-up batch's per-channel means, to compare with the peer's) and a single-thread breakdown of where one image's time goes.
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

        var clock = Stopwatch.StartNew();
        int n = 0;
        foreach (var b in new BatchLoader(folder, transform, order, batch, workers: threads, seed: 2))
            using (b)
            {
                if (b.Images.shape is not [_, 3, 224, 224] || b.Images.dtype != float32) throw new InvalidOperationException($"batch shape {string.Join("x", b.Images.shape)}");
                n += b.Count;
            }
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loader {threads} {n / seconds:F1} img/s ({n} images in {seconds:F2} s, batch {batch}, {warm} warm-up images, their channel means {means})"));
        Breakdown(folder, transform, Math.Min(256, folder.Count));
        return 0;
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

using System.Runtime.InteropServices;
using DeepCluster.Core.Data;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using SkiaSharp;
using Xunit.Abstractions;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

/// <summary>
/// The loader's fused path (JPEG read and decoded into reused buffers, crop box drawn from the header, flip and
/// normalisation written straight into the batch) gives the step-by-step pipeline's tensors bit for bit, allocates next to
/// nothing per image, and with DCT scaling on stays within a stated distance of the full decode.
/// </summary>
public class FusedSamplerTests
{
    readonly ITestOutputHelper _output;
    public FusedSamplerTests(ITestOutputHelper output) { _output = output; TorchRuntime.EnsureLoaded(); }

    /// <summary>A photo-like image (smooth shading, soft-edged discs, a little grain), so JPEG and resampling act as on real photos.</summary>
    static RgbImage Photo(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var discs = Enumerable.Range(0, 6).Select(_ => (X: rng.NextDouble() * w, Y: rng.NextDouble() * h, R: (0.05 + 0.2 * rng.NextDouble()) * Math.Min(w, h),
                                                         C: new[] { rng.Next(256), rng.Next(256), rng.Next(256) })).ToArray();
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    double v = 60 + 120.0 * x / w + 40 * Math.Sin(y * 0.02 + c + seed) * Math.Cos(x * 0.013 * (c + 1));
                    foreach (var d in discs)
                    {
                        double r = Math.Sqrt((x - d.X) * (x - d.X) + (y - d.Y) * (y - d.Y));
                        double a = Math.Clamp((d.R - r) / 3.0, 0, 1);
                        v = v * (1 - a) + d.C[c] * a;
                    }
                    px[(y * w + x) * 3 + c] = (byte)Math.Clamp(v + rng.Next(-6, 7), 0, 255);
                }
        return new RgbImage(w, h, px);
    }

    /// <summary>Writes <paramref name="image"/> as a quality-90 JPEG (SkiaSharp's encoder: 4:2:0, like PIL's default).</summary>
    static void SaveJpeg(RgbImage image, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, s = 0; i < rgba.Length; i += 4, s += 3)
        {
            rgba[i] = image.Pixels[s]; rgba[i + 1] = image.Pixels[s + 1]; rgba[i + 2] = image.Pixels[s + 2]; rgba[i + 3] = 255;
        }
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>An ImageFolder of JPEGs of the given sizes (class "a"), plus PNGs in class "b".</summary>
    static ImageFolder Folder(TempDir dir, (int W, int H)[] jpegs, (int W, int H)[] pngs)
    {
        Directory.CreateDirectory(dir.File("a"));
        if (pngs.Length > 0) Directory.CreateDirectory(dir.File("b"));
        for (int i = 0; i < jpegs.Length; i++) SaveJpeg(Photo(jpegs[i].W, jpegs[i].H, i), dir.File($"a/{i:D3}.jpg"));
        for (int i = 0; i < pngs.Length; i++) ImageCodec.SavePng(Photo(pngs[i].W, pngs[i].H, 100 + i), dir.File($"b/{i:D3}.png"));
        return new ImageFolder(dir.Path);
    }

    static readonly Dictionary<string, Func<Compose>> Pipelines = new()
    {
        ["training 224"] = () => DeepClusterTransforms.Training(224),
        ["features 224"] = () => DeepClusterTransforms.Features(224),
        ["training 28"] = () => DeepClusterTransforms.Training(28),
        ["crop 32x24, no flip"] = () => new Compose(new RandomResizedCrop(32, 24), new ToTensor()),
        ["resize 20, centre 30 (pads)"] = () => new Compose(new Resize(20), new CenterCrop(30), new ToTensor(), Normalize.ImageNet()),
    };

    [Fact]
    public void TheLoaderGivesTheStepByStepTensorsBitForBit()
    {
        Assert.True(TurboJpeg.Available, "libturbojpeg is needed (deploy/deps.sh installs it)");
        using var dir = new TempDir();
        var folder = Folder(dir, [(500, 375), (97, 61), (640, 480), (37, 300), (300, 37), (256, 256)], [(120, 90), (31, 45)]);
        var order = new[] { 3, 0, 7, 1, 2, 6, 4, 5, 0, 2 };
        foreach (var (name, make) in Pipelines)
        {
            var pipe = make();
            Assert.NotNull(FusedSampler.For(pipe));
            long jpegs = FusedSampler.Counts.Jpegs;
            var loader = new BatchLoader(folder, pipe, order, batchSize: 3, workers: 2, seed: 7, epoch: 1);
            int p = 0;
            foreach (var b in loader)
                using (b)
                {
                    var got = b.Images.data<float>().ToArray();
                    int len = got.Length / b.Count;
                    for (int i = 0; i < b.Count; i++, p++)
                    {
                        var expected = pipe.Apply(ImageCodec.Decode(folder.Paths[order[p]]), SampleRng.For(7, 1, p), out _);
                        Assert.True(expected.AsSpan().SequenceEqual(got.AsSpan(i * len, len)), $"{name}: position {p}, {folder.Paths[order[p]]}");
                    }
                }
            Assert.Equal(order.Length, p);
            if (!name.Contains("pads"))   // a centre crop that pads runs step by step on the loaded image
                Assert.True(FusedSampler.Counts.Jpegs - jpegs >= order.Count(i => i < 6), $"{name}: the JPEGs did not take the fused decode");
        }
    }

    [Fact]
    public void ADatasetWithoutFilesTakesTheFusedPathOnItsImages()
    {
        var ds = new MemoryDataset([Photo(80, 60, 1), Photo(33, 47, 2), Photo(300, 200, 3)]);
        foreach (var (name, make) in Pipelines)
        {
            var pipe = make();
            var sampler = FusedSampler.For(pipe)!;
            var dest = new float[sampler.Shape.Length];
            for (int i = 0; i < 3; i++)
            {
                sampler.Write(ds, i, SampleRng.For(2, 0, i), dest);
                Assert.True(pipe.Apply(ds.Load(i), SampleRng.For(2, 0, i), out _).AsSpan().SequenceEqual(dest), $"{name}: image {i}");
            }
        }
    }

    [Fact]
    public void OtherPipelinesAreNotFused()
    {
        Assert.Null(FusedSampler.For(new Compose(new TenCrop(16), new ToTensor())));
        Assert.Null(FusedSampler.For(new Compose(new RandomHorizontalFlip(), new RandomResizedCrop(16), new ToTensor())));
        Assert.Null(FusedSampler.For(new Compose(new ToTensor(), Normalize.ImageNet())));
        Assert.Null(FusedSampler.For(new Compose(new RandomResizedCrop(16))));
    }

    [Fact]
    public void AJpegSampleAllocatesNextToNothing()
    {
        using var dir = new TempDir();
        var folder = Folder(dir, Enumerable.Repeat((500, 375), 12).ToArray(), []);
        var pipe = DeepClusterTransforms.Training(224);
        var sampler = FusedSampler.For(pipe)!;
        var dest = new float[sampler.Shape.Length];
        for (int i = 0; i < 12; i++) sampler.Write(folder, i, SampleRng.For(1, 0, i), dest);   // buffers and coefficients, once per thread
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 12; i++) sampler.Write(folder, i, SampleRng.For(1, 0, i), dest);
        double fused = (GC.GetAllocatedBytesForCurrentThread() - before) / 12.0;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 12; i++) pipe.WriteTensor(pipe.ApplyImages(folder.Load(i), SampleRng.For(1, 0, i)), dest);
        double stepByStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 12.0;
        _output.WriteLine($"bytes allocated per 500x375 JPEG: fused {fused:F0}, step by step {stepByStep:F0}");
        Assert.True(fused < 1024, $"fused path allocates {fused:F0} bytes per image");
        Assert.True(stepByStep > 500 * 375 * 3, $"step by step allocates {stepByStep:F0} bytes per image");
    }

    [Theory]
    [InlineData(500, 375, 224, 224, 1)]      // RandomResizedCrop's whole-image box of an ImageNet-sized photo: never scaled
    [InlineData(1024, 768, 224, 224, 2)]
    [InlineData(1024, 768, 341, 256, 2)]     // Resize(256) of a 1024x768 photo
    [InlineData(2048, 1536, 341, 256, 4)]
    [InlineData(4000, 3000, 341, 256, 8)]
    [InlineData(511, 2000, 256, 1002, 1)]    // one side short of twice the output
    public void TheReductionIsTheLargestThatKeepsTheOutputSize(int boxW, int boxH, int outW, int outH, int expected)
    {
        Assert.Equal(expected, JpegDctScaling.Denominator(boxW, boxH, outW, outH, enabled: true));
        Assert.Equal(1, JpegDctScaling.Denominator(boxW, boxH, outW, outH, enabled: false));
    }

    [Fact]
    public void TheSwitchReadsOnOrOff()
    {
        Assert.True(JpegDctScaling.Parse(" On ", "k"));
        Assert.False(JpegDctScaling.Parse("off", "k"));
        Assert.False(JpegDctScaling.Parse(null, "k"));
        Assert.Equal("deepcluster.data.jpeg-dct-scaling=maybe: expected on or off.",
                     Assert.Throws<ArgumentException>(() => JpegDctScaling.Parse("maybe", "deepcluster.data.jpeg-dct-scaling")).Message);
    }

    /// <summary>Differences in 0..255 units of the normalised tensors a and b (3 planes of ImageNet's std).</summary>
    static (double Mean, double Max) Levels(float[] a, float[] b)
    {
        int plane = a.Length / 3;
        double sum = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]) * ImageNetStats.Std[i / plane] * 255;
            sum += d; max = Math.Max(max, d);
        }
        return (sum / a.Length, max);
    }

    [Fact]
    public void DctScaledDecodingIsWithinOneLevelOnAverageOfTheFullDecode()
    {
        // Stated tolerance, in 0..255 units against full decode + resize of the same box: mean absolute error at most 1 per
        // image (measured: ~0.35 on average, 0.5 at worst), largest error at most 40 (measured 15-25: a few pixels at sharp
        // edges, where the scaled IDCT's blur and the full decode's ringing differ).
        using var dir = new TempDir();
        var folder = Folder(dir, [(1024, 768), (1600, 1200), (2048, 1536), (768, 1024), (4000, 3000)], []);
        var before = FusedSampler.Counts;
        foreach (var (name, pipe, samples) in new[] { ("features 224", DeepClusterTransforms.Features(224), 1), ("training 224", DeepClusterTransforms.Training(224), 12) })
        {
            var scaled = FusedSampler.For(pipe, dctScaling: true)!;
            var full = FusedSampler.For(pipe, dctScaling: false)!;
            var a = new float[scaled.Shape.Length];
            var b = new float[scaled.Shape.Length];
            double worstMean = 0, worstMax = 0, sumMean = 0;
            int n = 0;
            for (int i = 0; i < folder.Count; i++)
                for (int s = 0; s < samples; s++)
                {
                    scaled.Write(folder, i, SampleRng.For(3, s, i), a);
                    full.Write(folder, i, SampleRng.For(3, s, i), b);
                    var (mean, max) = Levels(a, b);
                    worstMean = Math.Max(worstMean, mean); worstMax = Math.Max(worstMax, max); sumMean += mean; n++;
                }
            _output.WriteLine($"{name}: mean abs error {sumMean / n:F3} levels on average, worst image {worstMean:F3}; largest error {worstMax:F1} levels");
            Assert.True(worstMean <= 1.0, $"{name}: mean abs error {worstMean:F3} levels");
            Assert.True(worstMax <= 40, $"{name}: largest error {worstMax:F1} levels");
        }
        // A DCT-scaled sample allocates no more than a full-size one (its coefficients are not cached but recomputed in place).
        var sampler = FusedSampler.For(DeepClusterTransforms.Training(224), dctScaling: true)!;
        var dest = new float[sampler.Shape.Length];
        sampler.Write(folder, 0, SampleRng.For(9, 0, 0), dest);
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        for (int s = 1; s <= 20; s++) sampler.Write(folder, 0, SampleRng.For(9, s, 0), dest);
        double perImage = (GC.GetAllocatedBytesForCurrentThread() - bytes) / 20.0;
        _output.WriteLine($"bytes allocated per DCT-scaled 1024x768 sample: {perImage:F0}");
        Assert.True(perImage < 2048, $"{perImage:F0} bytes per DCT-scaled sample");
        var after = FusedSampler.Counts;
        _output.WriteLine($"scaled decodes: 1/2 {after.Half - before.Half}, 1/4 {after.Quarter - before.Quarter}, 1/8 {after.Eighth - before.Eighth}");
        Assert.True(after.Half > before.Half && after.Quarter > before.Quarter && after.Eighth > before.Eighth, "every reduction was used");
    }
}

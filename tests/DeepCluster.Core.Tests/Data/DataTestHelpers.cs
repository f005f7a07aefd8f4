using System.Runtime.InteropServices;
using DeepCluster.Core.Data;

namespace DeepCluster.Core.Tests.Data;

static class DataTestHelpers
{
    /// <summary>A smooth-plus-noise random image, so resampling differences show.</summary>
    public static RgbImage RandomImage(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    px[(y * w + x) * 3 + c] = (byte)Math.Clamp(128 + 100 * Math.Sin((x * (c + 1) + y * 2) * 0.15 + seed) + rng.Next(-27, 28), 0, 255);
        return new RgbImage(w, h, px);
    }

    public static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    public static float[] ToTensor(RgbImage img) => new Compose(new ToTensor()).Apply(img, new SampleRng(0), out _);

    /// <summary>Max and mean absolute difference.</summary>
    public static (double Max, double Mean) Diff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0, sum = 0;
        for (int i = 0; i < a.Length; i++) { double d = Math.Abs(a[i] - b[i]); sum += d; if (d > max) max = d; }
        return (max, a.Length == 0 ? 0 : sum / a.Length);
    }

    /// <summary>A dataset of in-memory images, counting loads; optional failing index.</summary>
    public sealed class MemoryDataset(RgbImage[] images, int[]? labels = null, int failAt = -1) : IImageDataset
    {
        int _loads;
        public int Loads => Volatile.Read(ref _loads);
        public int Count => images.Length;
        public IReadOnlyList<string> Classes => [];
        public int[]? Labels => labels;
        public RgbImage Load(int index)
        {
            Interlocked.Increment(ref _loads);
            if (index == failAt) throw new ImageDecodeException(Describe(index), "simulated bad file");
            return images[index];
        }
        public string Describe(int index) => $"memory/{index:D4}.png";
    }
}

using System.Globalization;
using DeepCluster.Core.Data;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using DeepCluster.Core.Visualisation;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Visualisation;

/// <summary>The image operations of the published gradient ascent, against SciPy and NumPy themselves.</summary>
public class VisuImagingTests
{
    public VisuImagingTests() => TorchRuntime.EnsureLoaded();

    static string Floats(IEnumerable<float> values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>
    /// <c>gaussian_filter(x, sigma=(σ, σ, 0))</c> on an H × W × 3 image, as <c>gradient_ascent.py</c> calls it, for the
    /// default σ (a 3-tap kernel) and a σ whose kernel is wider than the image (the reflection repeats).
    /// </summary>
    [Theory]
    [InlineData(0.3)]
    [InlineData(1.7)]
    public void BlurIsScipysGaussianFilterWithReflectBorders(double sigma)
    {
        const int h = 5, w = 6;
        var rng = new Random(11);
        var chw = Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        using var x = tensor(chw, [1, 3, h, w]);
        using var blurred = new GaussianBlur(sigma).Apply(x);
        var ours = blurred.data<float>().ToArray();
        var py = PythonPeer.Run("""
            import sys, numpy as np
            from scipy.ndimage import gaussian_filter
            h, w, s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
            chw = np.array([float(v) for v in sys.argv[4].split(',')], dtype=np.float32).reshape(3, h, w)
            out = gaussian_filter(chw.transpose((2, 1, 0)), sigma=(s, s, 0)).transpose((2, 1, 0))
            print(','.join(repr(float(v)) for v in out.ravel()))
            """, $"{h}", $"{w}", sigma.ToString(CultureInfo.InvariantCulture), Floats(chw));
        var theirs = py.Trim().Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(theirs.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++) Assert.Equal(theirs[i], ours[i], 1e-5f);
        // The blur does something: the default σ moves values by about 1 %, the wide one by much more.
        Assert.True(ours.Zip(chw).Max(p => Math.Abs(p.Item1 - p.Item2)) > (sigma < 1 ? 1e-3 : 0.1));
    }

    [Fact]
    public void DeprocessIsThePublishedDeprocessImage()
    {
        const int h = 4, w = 7;
        var rng = new Random(5);
        var chw = Enumerable.Range(0, 3 * h * w).Select(_ => (float)(rng.NextDouble() * 3 - 1)).ToArray();
        (chw[5], chw[17]) = (1000, -1000);   // beyond 5 standard deviations: clipped
        var image = Deprocess.ToImage(chw, h, w);
        var py = PythonPeer.Run("""
            import sys, numpy as np
            h, w = int(sys.argv[1]), int(sys.argv[2])
            x = np.array([float(v) for v in sys.argv[3].split(',')], dtype=np.float32).reshape(1, 3, h, w)
            x = x[0, :, :, :]
            x -= x.mean()
            x /= (x.std() + 1e-5)
            x *= 0.1
            x += 0.5
            x = np.clip(x, 0, 1)
            x *= 255
            x = x.transpose((1, 2, 0))
            x = np.clip(x, 0, 255).astype('uint8')
            print(','.join(str(v) for v in x.ravel()))
            """, $"{h}", $"{w}", Floats(chw));
        var theirs = py.Trim().Split(',').Select(byte.Parse).ToArray();
        Assert.Equal(w, image.Width);
        Assert.Equal(h, image.Height);
        // Float rounding may put a value on the other side of a byte boundary.
        Assert.All(image.Pixels.Zip(theirs), p => Assert.InRange(p.Item1 - p.Item2, -1, 1));
        Assert.True(image.Pixels.Zip(theirs).Count(p => p.Item1 != p.Item2) <= 2);
        Assert.Equal(255, image.Pixels[5 * 3]);   // the outliers are clipped
        Assert.Equal(0, image.Pixels[17 * 3]);
    }

    [Fact]
    public void GridPlacesEachTileInItsCell()
    {
        var tiles = Enumerable.Range(0, 5).Select(i => new RgbImage(3, 2, Enumerable.Repeat((byte)(10 * (i + 1)), 18).ToArray())).ToArray();
        var grid = ImageGrid.Compose(tiles, gap: 1, background: 0);
        Assert.Equal(3 * 4 + 1, grid.Width);    // ceil(√5) = 3 columns
        Assert.Equal(2 * 3 + 1, grid.Height);   // 2 rows
        byte At(int x, int y) => grid.Pixels[(y * grid.Width + x) * 3];
        Assert.Equal(10, At(1, 1));
        Assert.Equal(30, At(9, 2));
        Assert.Equal(40, At(1, 4));
        Assert.Equal(0, At(0, 0));
        Assert.Equal(0, At(9, 5));   // the sixth cell is empty
    }

    [Theory]
    [InlineData(null, 4, new[] { 0, 1, 2, 3 })]
    [InlineData("0,3,5-9", 12, new[] { 0, 3, 5, 6, 7, 8, 9 })]
    [InlineData(" 7, 2-3 ,3 ", 8, new[] { 2, 3, 7 })]
    public void FiltersAreNumbersAndRanges(string? spec, int channels, int[] expected) =>
        Assert.Equal(expected, FilterSelection.Parse(spec, channels));

    [Theory]
    [InlineData("5-2", "ends before it starts")]
    [InlineData("0,12", "filter 12 is out of range; the layer has filters 0 to 11")]
    [InlineData("a", "'a' is not a filter number")]
    [InlineData("-3", "'-3' is not a filter number")]
    public void BadFiltersAreRefused(string spec, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => FilterSelection.Parse(spec, 12)).Message);
}

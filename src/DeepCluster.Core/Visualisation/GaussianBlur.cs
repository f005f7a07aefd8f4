using static TorchSharp.torch;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// SciPy's <c>ndimage.gaussian_filter(image, sigma=(σ, σ, 0))</c> as the published <c>gradient_ascent.py</c> calls it on
/// an H × W × 3 image: each channel blurred on its own, separably along both spatial axes with the kernel
/// <c>exp(−x² / 2σ²)</c> normalised to sum 1 over <c>x = −r..r</c>, <c>r = int(4σ + 0.5)</c> (SciPy's <c>truncate=4</c>),
/// and SciPy's default border <c>mode='reflect'</c>: the image continues as its mirror including the edge pixel
/// (<c>d c b a | a b c d | d c b a</c>). Works on N × C × H × W tensors on any device.
/// </summary>
public sealed class GaussianBlur
{
    readonly double[] weights;

    /// <summary>The standard deviation in pixels; 0 leaves images unchanged.</summary>
    public double Sigma { get; }
    /// <summary>Half the kernel's width.</summary>
    public int Radius { get; }

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sigma"/> is negative or not a number.</exception>
    public GaussianBlur(double sigma)
    {
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "--sig: the blur's sigma must be 0 or more.");
        Sigma = sigma;
        // SciPy skips an axis whose sigma is at most 1e-15.
        Radius = sigma > 1e-15 ? (int)(4.0 * sigma + 0.5) : 0;
        weights = Kernel(sigma, Radius);
    }

    /// <summary>The normalised 1-D kernel, from <c>−radius</c> to <c>radius</c> (SciPy's <c>_gaussian_kernel1d</c>, order 0).</summary>
    public static double[] Kernel(double sigma, int radius)
    {
        if (radius == 0) return [1.0];
        var w = new double[2 * radius + 1];
        for (int x = -radius; x <= radius; x++) w[x + radius] = Math.Exp(-0.5 / (sigma * sigma) * x * x);
        var sum = w.Sum();
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
        return w;
    }

    /// <summary>The blurred images: a new tensor of <paramref name="images"/>' shape (N × C × H × W) and device.</summary>
    public Tensor Apply(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"expected N × C × H × W images, got shape ({string.Join(", ", images.shape)}).");
        if (Radius == 0) return images.clone();
        using var scope = NewDisposeScope();
        var x = Along(images, 2);
        x = Along(x, 3);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>One pass along dimension <paramref name="dim"/>: pad by reflection, then a weighted sum of shifted views.</summary>
    Tensor Along(Tensor x, int dim)
    {
        int n = (int)x.shape[dim];
        var index = new long[n + 2 * Radius];
        for (int i = 0; i < index.Length; i++) index[i] = Reflect(i - Radius, n);
        using var idx = tensor(index, device: x.device);
        var padded = x.index_select(dim, idx);
        Tensor? sum = null;
        for (int k = 0; k < weights.Length; k++)
        {
            var term = padded.narrow(dim, k, n) * weights[k];
            sum = sum is null ? term : sum.add_(term);
        }
        return sum!;
    }

    /// <summary>SciPy's <c>reflect</c> border: position <paramref name="i"/> of a line of <paramref name="n"/> pixels, mirrored
    /// about the edges (the edge pixel repeated), periodic with period 2n for kernels wider than the line.</summary>
    public static int Reflect(int i, int n)
    {
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }
}

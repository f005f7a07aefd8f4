namespace DeepCluster.Core.Data;

/// <summary>
/// Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> (Resample.c) for the bilinear filter along one axis:
/// the source span [<see cref="In0"/>, <see cref="In1"/>) of an axis <see cref="InSize"/> long is resampled to
/// <see cref="OutSize"/> samples, of which only the <see cref="Count"/> starting at <see cref="First"/> are wanted
/// (the rest of a centre crop is never computed; a sample's value does not depend on which others are).
/// Fixed point with 22 fractional bits. Kept per thread, per key, by <see cref="Get"/>: a random crop's sizes repeat.
/// </summary>
internal sealed class ResampleCoefficients
{
    /// <summary>Fractional bits of the coefficients (Pillow's PRECISION_BITS).</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Most entries a thread keeps; the cache is emptied when it would hold more.</summary>
    const int CacheEntries = 2048;

    [ThreadStatic] static Dictionary<(int, double, double, int, int, int), ResampleCoefficients>? _cache;

    /// <summary>Length of the source axis (taps are clamped to [0, InSize)).</summary>
    public int InSize { get; }
    /// <summary>Start of the resampled span, in source pixels.</summary>
    public double In0 { get; }
    /// <summary>End of the resampled span, in source pixels.</summary>
    public double In1 { get; }
    /// <summary>Samples the whole span resamples to.</summary>
    public int OutSize { get; }
    /// <summary>First output sample computed.</summary>
    public int First { get; }
    /// <summary>Output samples computed.</summary>
    public int Count { get; }
    /// <summary>Taps reserved per output sample (<see cref="K"/> has <c>Count * KSize</c> entries).</summary>
    public int KSize { get; }
    /// <summary>Per computed sample: first source index, then the number of taps.</summary>
    public int[] Bounds { get; }
    /// <summary>Fixed-point taps, <see cref="KSize"/> per computed sample (unused ones are 0).</summary>
    public int[] K { get; }

    int[]? _pairs;

    /// <summary>
    /// The taps of computed samples 2j and 2j+1 side by side for a 256-bit lane pair: entry <c>(j * KSize + t) * 8</c>
    /// holds tap t of sample 2j four times, then tap t of sample 2j+1 four times (0 past a sample's taps). Built on first use.
    /// </summary>
    public int[] Pairs
    {
        get
        {
            if (_pairs != null) return _pairs;
            var pairs = new int[Count / 2 * KSize * 8];
            for (int j = 0; j < Count / 2; j++)
                for (int t = 0; t < KSize; t++)
                    for (int c = 0; c < 4; c++)
                    {
                        pairs[(j * KSize + t) * 8 + c] = K[2 * j * KSize + t];
                        pairs[(j * KSize + t) * 8 + 4 + c] = K[(2 * j + 1) * KSize + t];
                    }
            return _pairs = pairs;
        }
    }

    /// <summary>Smallest and one past the largest source index any computed sample reads.</summary>
    public (int Min, int End) SourceRange
    {
        get
        {
            int min = int.MaxValue, end = 0;
            for (int i = 0; i < Count; i++)
            {
                min = Math.Min(min, Bounds[2 * i]);
                end = Math.Max(end, Bounds[2 * i] + Bounds[2 * i + 1]);
            }
            return (min, end);
        }
    }

    ResampleCoefficients(int inSize, double in0, double in1, int outSize, int first, int count)
    {
        InSize = inSize; In0 = in0; In1 = in1; OutSize = outSize; First = first; Count = count;
        double scale = (in1 - in0) / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = 1.0 * filterScale;
        KSize = (int)Math.Ceiling(support) * 2 + 1;
        Bounds = new int[count * 2];
        K = new int[count * KSize];
        Span<double> w = KSize <= 256 ? stackalloc double[KSize] : new double[KSize];
        for (int i = 0; i < count; i++)
        {
            int xx = first + i;
            double center = in0 + (xx + 0.5) * scale;
            double ww = 0.0, ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            if (xmax < 0) xmax = 0;
            for (int x = 0; x < xmax; x++)
            {
                double t = Math.Abs((x + xmin - center + 0.5) * ss);
                w[x] = t < 1.0 ? 1.0 - t : 0.0;
                ww += w[x];
            }
            for (int x = 0; x < xmax; x++)
            {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                K[i * KSize + x] = v < 0 ? (int)(-0.5 + v * (1 << PrecisionBits)) : (int)(0.5 + v * (1 << PrecisionBits));
            }
            Bounds[2 * i] = xmin;
            Bounds[2 * i + 1] = xmax;
        }
    }

    /// <summary>The coefficients for these arguments, from this thread's cache or computed (and cached).</summary>
    public static ResampleCoefficients Get(int inSize, double in0, double in1, int outSize, int first, int count)
    {
        var cache = _cache ??= new();
        var key = (inSize, in0, in1, outSize, first, count);
        if (cache.TryGetValue(key, out var c)) return c;
        if (cache.Count >= CacheEntries) cache.Clear();
        return cache[key] = new ResampleCoefficients(inSize, in0, in1, outSize, first, count);
    }
}

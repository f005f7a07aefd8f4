namespace DeepCluster.Core.Data;

/// <summary>
/// Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> (Resample.c) for the bilinear filter along one axis:
/// the source span [<see cref="In0"/>, <see cref="In1"/>) of an axis <see cref="InSize"/> long is resampled to
/// <see cref="OutSize"/> samples, of which only the <see cref="Count"/> starting at <see cref="First"/> are wanted
/// (the rest of a centre crop is never computed; a sample's value does not depend on which others are).
/// Fixed point with 22 fractional bits, computed by <see cref="Get"/> into per-thread objects (no allocation per image).
/// </summary>
internal sealed class ResampleCoefficients
{
    /// <summary>Fractional bits of the coefficients (Pillow's PRECISION_BITS).</summary>
    public const int PrecisionBits = 32 - 8 - 2;


    /// <summary>Length of the source axis (taps are clamped to [0, InSize)).</summary>
    public int InSize { get; private set; }
    /// <summary>Start of the resampled span, in source pixels.</summary>
    public double In0 { get; private set; }
    /// <summary>End of the resampled span, in source pixels.</summary>
    public double In1 { get; private set; }
    /// <summary>Samples the whole span resamples to.</summary>
    public int OutSize { get; private set; }
    /// <summary>First output sample computed.</summary>
    public int First { get; private set; }
    /// <summary>Output samples computed.</summary>
    public int Count { get; private set; }
    /// <summary>Taps reserved per output sample (<see cref="K"/> has at least <c>Count * KSize</c> entries).</summary>
    public int KSize { get; private set; }
    /// <summary>Per computed sample: first source index, then the number of taps (at least <c>2 * Count</c> entries).</summary>
    public int[] Bounds { get; private set; }
    /// <summary>Fixed-point taps, <see cref="KSize"/> per computed sample (unused ones are 0).</summary>
    public int[] K { get; private set; }

    int[] _pairs = [];
    int _pairsFor = -1;   // the Fill the pairs were built for (-1: none since the last Fill)
    int _fills;

    /// <summary>
    /// The taps of computed samples 2j and 2j+1 side by side for a 256-bit lane pair: entry <c>(j * KSize + t) * 8</c>
    /// holds tap t of sample 2j four times, then tap t of sample 2j+1 four times (0 past a sample's taps). Built on first use.
    /// </summary>
    public int[] Pairs
    {
        get
        {
            if (_pairsFor == _fills) return _pairs;
            var pairs = _pairs.Length >= Count / 2 * KSize * 8 ? _pairs : new int[Count / 2 * KSize * 8];
            for (int j = 0; j < Count / 2; j++)
                for (int t = 0; t < KSize; t++)
                    for (int c = 0; c < 4; c++)
                    {
                        pairs[(j * KSize + t) * 8 + c] = K[2 * j * KSize + t];
                        pairs[(j * KSize + t) * 8 + 4 + c] = K[(2 * j + 1) * KSize + t];
                    }
            _pairsFor = _fills;
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

    ResampleCoefficients() { Bounds = []; K = []; }

    /// <summary>Computes the coefficients for these arguments into this object, reusing its arrays when they are long enough.</summary>
    void Fill(int inSize, double in0, double in1, int outSize, int first, int count)
    {
        InSize = inSize; In0 = in0; In1 = in1; OutSize = outSize; First = first; Count = count;
        double scale = (in1 - in0) / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = 1.0 * filterScale;
        KSize = (int)Math.Ceiling(support) * 2 + 1;
        if (Bounds.Length < count * 2) Bounds = new int[count * 2];
        if (K.Length < count * KSize) K = new int[count * KSize];
        else Array.Clear(K, 0, count * KSize);
        _fills++;
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

    /// <summary>
    /// The coefficients for these arguments, computed into this thread's object for <paramref name="axis"/> (0 or 1) and
    /// valid until the next call for that axis; kept as they are when the arguments are those of the last call (a
    /// resize of same-sized images, a fixed crop). Not cached per size: a random crop's sizes rarely repeat soon, a cache
    /// of them grows to tens of MB per thread, and computing them costs about 1 % of a sample.
    /// </summary>
    public static ResampleCoefficients Get(int inSize, double in0, double in1, int outSize, int first, int count, int axis = 0)
    {
        var c = (_scratch ??= [new(), new()])[axis];
        if (c._fills == 0 || c.InSize != inSize || c.In0 != in0 || c.In1 != in1 || c.OutSize != outSize || c.First != first || c.Count != count)
            c.Fill(inSize, in0, in1, outSize, first, count);
        return c;
    }

    [ThreadStatic] static ResampleCoefficients[]? _scratch;
}

namespace DeepCluster.Core.Data;

/// <summary>A step of a <see cref="Compose"/> pipeline (torchvision semantics).</summary>
public interface ITransform { }

/// <summary>A step that maps one RGB image to another. Random steps draw only from the given generator.</summary>
public interface IImageTransform : ITransform
{
    /// <summary>Applies the step. May return <paramref name="image"/> itself or modify it in place when it owns it.</summary>
    RgbImage Apply(RgbImage image, SampleRng rng);
}

/// <summary>A step that turns one image into several crops (e.g. <see cref="TenCrop"/>).</summary>
public interface IMultiCropTransform : ITransform
{
    /// <summary>Number of crops produced.</summary>
    int Crops { get; }
    /// <summary>Returns the crops.</summary>
    RgbImage[] Apply(RgbImage image, SampleRng rng);
}

/// <summary>Shape of one transformed sample: <see cref="Crops"/> x 3 x <see cref="Height"/> x <see cref="Width"/>.</summary>
public readonly record struct SampleShape(int Crops, int Height, int Width)
{
    /// <summary>Number of floats of one sample.</summary>
    public int Length => Crops * 3 * Height * Width;
    /// <inheritdoc/>
    public override string ToString() => Crops == 1 ? $"3x{Height}x{Width}" : $"{Crops}x3x{Height}x{Width}";
}

/// <summary>
/// torchvision's <c>Compose</c>: image steps, at most one multi-crop step, then <see cref="ToTensor"/> and an
/// optional <see cref="Normalize"/>. ToTensor and Normalize are fused into a per-channel lookup table that
/// gives exactly torchvision's float32 results (<c>v / 255</c>, then <c>(x - mean) / std</c>).
/// </summary>
public sealed class Compose
{
    readonly IImageTransform[] _before;
    readonly IMultiCropTransform? _multi;
    readonly IImageTransform[] _after;
    readonly float[][]? _table;

    /// <summary>The steps, in order.</summary>
    public IReadOnlyList<ITransform> Steps { get; }
    /// <summary>Crops per sample: 1, or that of the multi-crop step.</summary>
    public int Crops => _multi?.Crops ?? 1;
    /// <summary>True when the pipeline ends in ToTensor (and optionally Normalize), so tensors can be produced.</summary>
    public bool ProducesTensor => _table != null;
    /// <summary>The fused ToTensor(+Normalize) lookup: float value of byte <c>v</c> in channel <c>c</c> is <c>Table[c][v]</c>; null without ToTensor.</summary>
    internal float[][]? Table => _table;

    /// <summary>Builds the pipeline; throws <see cref="ArgumentException"/> when steps are out of order.</summary>
    public Compose(params ITransform[] steps)
    {
        Steps = steps.ToArray();
        var before = new List<IImageTransform>(); var after = new List<IImageTransform>();
        ToTensor? toTensor = null; Normalize? normalize = null;
        foreach (var s in steps)
        {
            switch (s)
            {
                case null: throw new ArgumentNullException(nameof(steps), "null step");
                case IImageTransform _ when toTensor != null:
                case IMultiCropTransform _ when toTensor != null:
                    throw new ArgumentException($"{s.GetType().Name} after ToTensor: image steps must come before ToTensor");
                case IImageTransform t: (_multi == null ? before : after).Add(t); break;
                case IMultiCropTransform m when _multi != null: throw new ArgumentException($"only one multi-crop step allowed, got {m.GetType().Name} too");
                case IMultiCropTransform m: _multi = m; break;
                case ToTensor t when toTensor != null: throw new ArgumentException("ToTensor given twice");
                case ToTensor t: toTensor = t; break;
                case Normalize n when toTensor == null || normalize != null: throw new ArgumentException("Normalize must follow ToTensor, once");
                case Normalize n: normalize = n; break;
                default: throw new ArgumentException($"unsupported step {s.GetType().Name}");
            }
        }
        _before = before.ToArray(); _after = after.ToArray();
        if (toTensor != null) _table = BuildTable(normalize);
    }

    /// <summary>Runs the image steps: returns <see cref="Crops"/> images.</summary>
    public RgbImage[] ApplyImages(RgbImage image, SampleRng rng)
    {
        foreach (var t in _before) image = t.Apply(image, rng);
        if (_multi == null) return _after.Length == 0 ? [image] : [ApplyAfter(image, rng)];
        var crops = _multi.Apply(image, rng);
        for (int i = 0; i < crops.Length; i++) crops[i] = ApplyAfter(crops[i], rng);
        return crops;
    }

    RgbImage ApplyAfter(RgbImage image, SampleRng rng)
    {
        foreach (var t in _after) image = t.Apply(image, rng);
        return image;
    }

    /// <summary>The shape <see cref="WriteTensor"/> gives for these crops; throws when crops differ in size.</summary>
    public SampleShape ShapeOf(RgbImage[] crops)
    {
        var shape = new SampleShape(crops.Length, crops[0].Height, crops[0].Width);
        foreach (var c in crops)
            if (c.Width != shape.Width || c.Height != shape.Height)
                throw new InvalidOperationException($"crops differ in size: {c.Width}x{c.Height} vs {shape.Width}x{shape.Height}");
        return shape;
    }

    /// <summary>Writes ToTensor(+Normalize) of <paramref name="crops"/> as float32 (crops x) C x H x W into <paramref name="dest"/>.</summary>
    public void WriteTensor(RgbImage[] crops, Span<float> dest)
    {
        if (_table == null) throw new InvalidOperationException("the pipeline has no ToTensor step");
        var shape = ShapeOf(crops);
        if (dest.Length < shape.Length) throw new ArgumentException($"destination holds {dest.Length} floats, sample needs {shape.Length}", nameof(dest));
        int plane = shape.Height * shape.Width;
        float[] t0 = _table[0], t1 = _table[1], t2 = _table[2];
        for (int c = 0; c < crops.Length; c++)
        {
            var px = crops[c].Pixels;
            var r = dest.Slice(c * 3 * plane, plane);
            var g = dest.Slice(c * 3 * plane + plane, plane);
            var b = dest.Slice(c * 3 * plane + 2 * plane, plane);
            for (int i = 0, p = 0; i < plane; i++, p += 3)
            {
                r[i] = t0[px[p]]; g[i] = t1[px[p + 1]]; b[i] = t2[px[p + 2]];
            }
        }
    }

    /// <summary>Applies the whole pipeline; returns the float32 (crops x) C x H x W sample and its shape.</summary>
    public float[] Apply(RgbImage image, SampleRng rng, out SampleShape shape)
    {
        var crops = ApplyImages(image, rng);
        shape = ShapeOf(crops);
        var result = new float[shape.Length];
        WriteTensor(crops, result);
        return result;
    }

    static float[][] BuildTable(Normalize? n)
    {
        var table = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            table[c] = new float[256];
            for (int v = 0; v < 256; v++)
            {
                float x = v / 255f;
                table[c][v] = n == null ? x : (x - n.Mean[c]) / n.Std[c];
            }
        }
        return table;
    }
}

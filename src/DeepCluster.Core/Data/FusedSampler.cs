namespace DeepCluster.Core.Data;

/// <summary>
/// The two pipelines of main.py run as one step per sample, straight into the batch buffer: RandomResizedCrop
/// (+ RandomHorizontalFlip) and Resize + CenterCrop, each then ToTensor (+ Normalize). A JPEG is read and decoded into
/// this thread's reused buffers (<see cref="IImageDataset.TryReadJpeg"/>, <see cref="TurboJpeg.TryDecodeInto"/>); the crop
/// box is drawn from the size in its header, only that box is resampled (only the centre crop's window of a resize), and
/// the flip and the normalisation happen as the pixels are written into the float buffer, so a sample allocates nothing.
/// Same random draws, same bytes and floats as <see cref="Compose.ApplyImages"/> + <see cref="Compose.WriteTensor"/>, except
/// where <see cref="JpegDctScaling"/> is on and a crop is large enough to decode the JPEG at a reduced size.
/// </summary>
public sealed class FusedSampler
{
    /// <summary>Largest buffer of each kind a thread keeps between samples.</summary>
    const int ThreadBufferBytes = 16 << 20;

    [ThreadStatic] static byte[]? _encoded, _decoded, _resampled;
    static long _samples, _jpegs, _scaled2, _scaled4, _scaled8;

    readonly Compose _compose;
    readonly RandomResizedCrop? _crop;
    readonly RandomHorizontalFlip? _flip;
    readonly Resize? _resize;
    readonly CenterCrop? _center;
    readonly float[][] _table;
    readonly bool? _dctScaling;

    /// <summary>Shape of every sample.</summary>
    public SampleShape Shape { get; }

    FusedSampler(Compose compose, RandomResizedCrop? crop, RandomHorizontalFlip? flip, Resize? resize, CenterCrop? center, bool? dctScaling)
    {
        _compose = compose; _dctScaling = dctScaling; _crop = crop; _flip = flip; _resize = resize; _center = center;
        _table = compose.Table!;
        Shape = crop != null ? new SampleShape(1, crop.Height, crop.Width) : new SampleShape(1, center!.Height, center.Width);
    }

    /// <summary>The fused form of <paramref name="compose"/>, or null when it is another pipeline (which then runs step by step).</summary>
    /// <param name="compose">The pipeline.</param>
    /// <param name="dctScaling">Whether to decode large-enough JPEG crops at a reduced size; null: <see cref="JpegDctScaling.Enabled"/> at each sample.</param>
    public static FusedSampler? For(Compose compose, bool? dctScaling = null)
    {
        if (!compose.ProducesTensor) return null;
        var images = compose.Steps.Where(s => s is not (ToTensor or Normalize)).ToArray();
        return images switch
        {
            [RandomResizedCrop c] => new(compose, c, null, null, null, dctScaling),
            [RandomResizedCrop c, RandomHorizontalFlip f] => new(compose, c, f, null, null, dctScaling),
            [Resize r, CenterCrop cc] => new(compose, null, null, r, cc, dctScaling),
            _ => null,
        };
    }

    /// <summary>What the fused path has done in this process: samples, JPEGs decoded by it, and those decoded at 1/2, 1/4, 1/8.</summary>
    public static (long Samples, long Jpegs, long Half, long Quarter, long Eighth) Counts =>
        (Interlocked.Read(ref _samples), Interlocked.Read(ref _jpegs), Interlocked.Read(ref _scaled2), Interlocked.Read(ref _scaled4), Interlocked.Read(ref _scaled8));

    /// <summary>Loads sample <paramref name="index"/> of <paramref name="dataset"/> and writes its float32 3 x H x W tensor
    /// into <paramref name="dest"/>. Load errors are the dataset's (<see cref="ImageDecodeException"/> naming the file).</summary>
    public void Write(IImageDataset dataset, int index, SampleRng rng, Span<float> dest)
    {
        if (dest.Length < Shape.Length) throw new ArgumentException($"destination holds {dest.Length} floats, sample needs {Shape.Length}", nameof(dest));
        Interlocked.Increment(ref _samples);
        var encoded = _encoded;
        if (TurboJpeg.Available && dataset.TryReadJpeg(index, ref encoded, out var length))
        {
            _encoded = encoded.Length > ThreadBufferBytes ? null : encoded;
            var jpeg = encoded.AsSpan(0, length);
            if (TurboJpeg.TryReadHeader(jpeg, out var w, out var h))
            {
                ImageCodec.CheckSize(w, h, dataset.Describe(index));
                var start = rng.Copy();
                var plan = Plan(w, h, rng);
                if (plan is { } p)
                {
                    int d = JpegDctScaling.Denominator(p.Box.Width, p.Box.Height, p.OutW, p.OutH, _dctScaling ?? JpegDctScaling.Enabled);
                    var decoded = _decoded;
                    if (TurboJpeg.TryDecodeInto(jpeg, w, h, d, ref decoded))
                    {
                        _decoded = decoded.Length > ThreadBufferBytes ? null : decoded;
                        Interlocked.Increment(ref _jpegs);
                        if (d > 1) Interlocked.Increment(ref d == 2 ? ref _scaled2 : ref d == 4 ? ref _scaled4 : ref _scaled8);
                        Render(decoded, w, h, d, p, dest, dataset, index);
                        return;
                    }
                }
                rng = start;   // not decoded here: the step-by-step path draws the same numbers again
            }
        }
        WriteImage(dataset.Load(index), rng, dest, dataset, index);
    }

    /// <summary>Runs the pipeline on an image already decoded (a non-JPEG, or a dataset that only gives images).</summary>
    void WriteImage(RgbImage image, SampleRng rng, Span<float> dest, IImageDataset dataset, int index)
    {
        var start = rng.Copy();
        if (Plan(image.Width, image.Height, rng) is { } p) Render(image.Pixels, image.Width, image.Height, 1, p, dest, dataset, index);
        else
        {
            try { _compose.WriteTensor(_compose.ApplyImages(image, start), dest); }   // a centre crop larger than the resized image
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"{dataset.Describe(index)}: transform failed: {e.Message}", e);
            }
        }
    }

    /// <summary>The source box (full-size pixels), the size it becomes, the window of that to keep, and the flip; null
    /// when a centre crop reaches outside the resized image (padding: the step-by-step path handles it).</summary>
    SamplePlan? Plan(int w, int h, SampleRng rng)
    {
        if (_crop != null)
        {
            var box = _crop.SampleBox(w, h, rng);
            bool flip = _flip != null && rng.NextDouble() < _flip.P;
            return new SamplePlan(box, _crop.Width, _crop.Height, new CropBox(0, 0, _crop.Height, _crop.Width), flip);
        }
        var (rw, rh) = _resize!.OutputSize(w, h);
        var (left, top) = ImageOps.CenterCropOrigin(rw, rh, _center!.Width, _center.Height);
        if (left < 0 || top < 0 || left + _center.Width > rw || top + _center.Height > rh) return null;
        return new SamplePlan(new CropBox(0, 0, h, w), rw, rh, new CropBox(top, left, _center.Height, _center.Width), false);
    }

    /// <summary>Resamples the plan's box of the <paramref name="w"/>x<paramref name="h"/> image held in <paramref name="pixels"/>
    /// at 1/<paramref name="d"/> of its size, then writes the window as floats.</summary>
    void Render(byte[] pixels, int w, int h, int d, SamplePlan p, Span<float> dest, IImageDataset dataset, int index)
    {
        var win = p.Window;
        int bytes = win.Width * win.Height * 3;
        var output = _resampled is { } r && r.Length >= bytes ? r : new byte[bytes];
        try
        {
            var b = p.Box;
            if (d == 1) PilResampler.ResizedCropInto(pixels, w, h, b.Left, b.Top, b.Width, b.Height, p.OutW, p.OutH, win, output);
            else
            {
                int sw = TurboJpeg.Scaled(w, d), sh = TurboJpeg.Scaled(h, d);
                PilResampler.ResampleInto(pixels, sw, sh, 0, 0, sw, sh, (double)b.Left / d, (double)b.Top / d,
                                          (double)(b.Left + b.Width) / d, (double)(b.Top + b.Height) / d, p.OutW, p.OutH, win, output);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{dataset.Describe(index)}: transform failed: {e.Message}", e);
        }
        if (bytes <= ThreadBufferBytes) _resampled = output;
        WriteFloats(output, win.Width, win.Height, p.Flip, dest);
    }

    /// <summary>ToTensor + Normalize through the lookup table, planes R, G, B; mirrored when <paramref name="flip"/>.</summary>
    void WriteFloats(byte[] px, int w, int h, bool flip, Span<float> dest)
    {
        int plane = w * h;
        float[] t0 = _table[0], t1 = _table[1], t2 = _table[2];
        var r = dest[..plane];
        var g = dest.Slice(plane, plane);
        var b = dest.Slice(2 * plane, plane);
        for (int y = 0; y < h; y++)
        {
            int o = y * w;
            int p = flip ? (o + w - 1) * 3 : o * 3, step = flip ? -3 : 3;
            for (int x = 0; x < w; x++, o++, p += step)
            {
                r[o] = t0[px[p]]; g[o] = t1[px[p + 1]]; b[o] = t2[px[p + 2]];
            }
        }
    }
}

/// <summary>One sample's geometry: source <paramref name="Box"/> (full-size pixels) → <paramref name="OutW"/>x<paramref name="OutH"/>,
/// of which <paramref name="Window"/> is kept, mirrored when <paramref name="Flip"/>.</summary>
internal readonly record struct SamplePlan(CropBox Box, int OutW, int OutH, CropBox Window, bool Flip);

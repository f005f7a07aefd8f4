using System.Runtime.CompilerServices;
namespace DeepCluster.Core.Data;

/// <summary>
/// Bilinear resizing that reproduces Pillow's <c>Image.resize(size, BILINEAR, box)</c> (Resample.c): a separable
/// triangle filter widened by the scale when shrinking (antialiasing), fixed-point coefficients with 22
/// fractional bits (<see cref="ResampleCoefficients"/>, cached per thread), a horizontal pass rounded to 8 bits over
/// only the rows the vertical pass reads, then a vertical pass. Integer sums do not depend on their order, so the
/// vectorised passes (<see cref="PilResampler"/>'s AVX2 half) give Pillow's bytes exactly, like the scalar ones.
/// Works on a rectangle of the source treated as its own image, which is what torchvision's crop-then-resize does, in
/// one step; and can compute only a window of the output (a centre crop of a resize) without the rest.
/// </summary>
public static partial class PilResampler
{
    /// <summary>Largest scratch buffer a thread keeps between calls.</summary>
    const int ThreadBufferBytes = 16 << 20;

    [ThreadStatic] static byte[]? _tmp;

    /// <summary>Resizes the <paramref name="cropW"/>x<paramref name="cropH"/> region at (<paramref name="left"/>, <paramref name="top"/>)
    /// of <paramref name="src"/> to <paramref name="outW"/>x<paramref name="outH"/>. The region must lie inside the image.</summary>
    public static RgbImage ResizedCrop(RgbImage src, int left, int top, int cropW, int cropH, int outW, int outH)
    {
        if (outW <= 0 || outH <= 0) throw new ArgumentOutOfRangeException(nameof(outW), $"output size {outW}x{outH} must be positive");
        var dst = new byte[outW * outH * 3];
        ResizedCropInto(src.Pixels, src.Width, src.Height, left, top, cropW, cropH, outW, outH, new(0, 0, outH, outW), dst);
        return new RgbImage(outW, outH, dst);
    }

    /// <summary>Resizes the whole image.</summary>
    public static RgbImage Resize(RgbImage src, int outW, int outH) => ResizedCrop(src, 0, 0, src.Width, src.Height, outW, outH);

    /// <summary>
    /// torchvision's crop-then-resize into <paramref name="dst"/>: the <paramref name="cropW"/>x<paramref name="cropH"/>
    /// region at (<paramref name="left"/>, <paramref name="top"/>) of the <paramref name="width"/>x<paramref name="height"/>
    /// RGB image in <paramref name="pixels"/> (which may be longer), resized to <paramref name="outW"/>x<paramref name="outH"/>,
    /// of which only <paramref name="window"/> is written (its own size, row-major RGB).
    /// </summary>
    internal static void ResizedCropInto(byte[] pixels, int width, int height, int left, int top, int cropW, int cropH,
                                         int outW, int outH, CropBox window, byte[] dst) =>
        ResampleInto(pixels, width, height, left, top, cropW, cropH, 0, 0, cropW, cropH, outW, outH, window, dst);

    /// <summary>
    /// Pillow's <c>resize(box=(x0, y0, x1, y1))</c> of the <paramref name="regionW"/>x<paramref name="regionH"/> region at
    /// (<paramref name="left"/>, <paramref name="top"/>) of an image (the region is the image Pillow sees: taps are clamped
    /// to it): the box, in region pixels, becomes <paramref name="outW"/>x<paramref name="outH"/>, and only
    /// <paramref name="window"/> of that output is computed into <paramref name="dst"/>.
    /// </summary>
    internal static void ResampleInto(byte[] pixels, int width, int height, int left, int top, int regionW, int regionH,
                                      double x0, double y0, double x1, double y1, int outW, int outH, CropBox window, byte[] dst)
    {
        if (left < 0 || top < 0 || regionW <= 0 || regionH <= 0 || left + regionW > width || top + regionH > height)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop ({left},{top},{regionW}x{regionH}) outside {width}x{height}");
        if (outW <= 0 || outH <= 0) throw new ArgumentOutOfRangeException(nameof(outW), $"output size {outW}x{outH} must be positive");
        if (window.Left < 0 || window.Top < 0 || window.Width <= 0 || window.Height <= 0 || window.Left + window.Width > outW || window.Top + window.Height > outH)
            throw new ArgumentOutOfRangeException(nameof(window), $"window {window} outside the {outW}x{outH} output");
        if (pixels.Length < (long)width * height * 3) throw new ArgumentException($"{pixels.Length} bytes for a {width}x{height} image", nameof(pixels));
        int winBytes = window.Width * 3, stride = width * 3;
        if (dst.Length < winBytes * window.Height) throw new ArgumentException($"destination holds {dst.Length} bytes, window needs {winBytes * window.Height}", nameof(dst));
        bool needH = !(outW == regionW && x0 == 0 && x1 == regionW), needV = !(outH == regionH && y0 == 0 && y1 == regionH);
        if (!needH && !needV)
        {
            for (int y = 0; y < window.Height; y++)
                Array.Copy(pixels, (top + window.Top + y) * stride + (left + window.Left) * 3, dst, y * winBytes, winBytes);
            return;
        }
        if (!needH)
        {
            var vc = ResampleCoefficients.Get(regionH, y0, y1, outH, window.Top, window.Height, axis: 1);
            Vertical(pixels, stride, (left + window.Left) * 3, top, winBytes, vc, dst);
            return;
        }
        var hc = ResampleCoefficients.Get(regionW, x0, x1, outW, window.Left, window.Width);
        if (!needV)
        {
            Horizontal(pixels, stride, (top + window.Top) * stride + left * 3, window.Height, hc, dst);
            return;
        }
        var vk = ResampleCoefficients.Get(regionH, y0, y1, outH, window.Top, window.Height, axis: 1);
        var (first, end) = vk.SourceRange;   // rows of the region the vertical pass reads: only those go through the horizontal pass
        int tmpBytes = winBytes * (end - first);
        var tmp = _tmp is { } t && t.Length >= tmpBytes ? t : new byte[tmpBytes];
        Horizontal(pixels, stride, (top + first) * stride + left * 3, end - first, hc, tmp);
        Vertical(tmp, winBytes, 0, -first, winBytes, vk, dst);
        if (tmp.Length <= ThreadBufferBytes) _tmp = tmp;
    }

    /// <summary>Horizontal pass over <paramref name="rows"/> rows, the first starting at byte <paramref name="start"/>
    /// (the region's left edge); output rows of <c>c.Count</c> pixels, packed.</summary>
    static void Horizontal(byte[] src, int stride, int start, int rows, ResampleCoefficients c, byte[] dst)
    {
        if (Simd) HorizontalAvx2(src, stride, start, rows, c, dst);
        else HorizontalScalar(src, stride, start, rows, c, dst, 0, c.Count);
    }

    /// <summary>Vertical pass: <paramref name="widthBytes"/> bytes per row from byte <paramref name="colOffset"/>; tap row
    /// <c>r</c> of the coefficients is source row <c>r + rowOffset</c>.</summary>
    static void Vertical(byte[] src, int stride, int colOffset, int rowOffset, int widthBytes, ResampleCoefficients c, byte[] dst)
    {
        if (Simd) VerticalAvx2(src, stride, colOffset, rowOffset, widthBytes, c, dst);
        else VerticalScalar(src, stride, colOffset, rowOffset, widthBytes, c, dst, 0);
    }

    static byte Clip8(int v)
    {
        v >>= ResampleCoefficients.PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    const int Half = 1 << (ResampleCoefficients.PrecisionBits - 1);

    /// <summary>Output pixels [<paramref name="from"/>, <paramref name="to"/>) of every row, one multiply-add at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void HorizontalScalar(byte[] src, int stride, int start, int rows, ResampleCoefficients c, byte[] dst, int from, int to)
    {
        int[] bounds = c.Bounds, k = c.K;
        int kSize = c.KSize, outW = c.Count;
        for (int y = 0; y < rows; y++)
        {
            int rowBase = start + y * stride;
            int o = (y * outW + from) * 3;
            for (int xx = from; xx < to; xx++, o += 3)
            {
                int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1], kb = xx * kSize;
                int s0 = Half, s1 = Half, s2 = Half;
                int p = rowBase + xmin * 3;
                for (int x = 0; x < xmax; x++, p += 3)
                {
                    int w = k[kb + x];
                    s0 += src[p] * w; s1 += src[p + 1] * w; s2 += src[p + 2] * w;
                }
                dst[o] = Clip8(s0); dst[o + 1] = Clip8(s1); dst[o + 2] = Clip8(s2);
            }
        }
    }

    /// <summary>Bytes [<paramref name="from"/>, widthBytes) of every output row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void VerticalScalar(byte[] src, int stride, int colOffset, int rowOffset, int widthBytes, ResampleCoefficients c, byte[] dst, int from)
    {
        int[] bounds = c.Bounds, k = c.K;
        int kSize = c.KSize;
        for (int yy = 0; yy < c.Count; yy++)
        {
            int ymin = bounds[2 * yy], ymax = bounds[2 * yy + 1], kb = yy * kSize, o = yy * widthBytes;
            for (int i = from; i < widthBytes; i++)
            {
                int s = Half;
                int p = (rowOffset + ymin) * stride + colOffset + i;
                for (int y = 0; y < ymax; y++, p += stride) s += src[p] * k[kb + y];
                dst[o + i] = Clip8(s);
            }
        }
    }
}

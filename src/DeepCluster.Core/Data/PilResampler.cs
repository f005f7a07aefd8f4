namespace DeepCluster.Core.Data;

/// <summary>
/// Bilinear resizing that reproduces Pillow's <c>Image.resize(size, BILINEAR)</c> (Resample.c): a separable
/// triangle filter widened by the scale when shrinking (antialiasing), fixed-point coefficients with 22
/// fractional bits, a horizontal pass rounded to 8 bits and then a vertical pass. Works on a rectangle of
/// the source treated as its own image, which is what torchvision's crop-then-resize does, in one step.
/// </summary>
public static class PilResampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes the <paramref name="cropW"/>x<paramref name="cropH"/> region at (<paramref name="left"/>, <paramref name="top"/>)
    /// of <paramref name="src"/> to <paramref name="outW"/>x<paramref name="outH"/>. The region must lie inside the image.</summary>
    public static RgbImage ResizedCrop(RgbImage src, int left, int top, int cropW, int cropH, int outW, int outH)
    {
        if (left < 0 || top < 0 || cropW <= 0 || cropH <= 0 || left + cropW > src.Width || top + cropH > src.Height)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop ({left},{top},{cropW}x{cropH}) outside {src.Width}x{src.Height}");
        if (outW <= 0 || outH <= 0) throw new ArgumentOutOfRangeException(nameof(outW), $"output size {outW}x{outH} must be positive");
        var dst = new byte[outW * outH * 3];
        bool needH = outW != cropW, needV = outH != cropH;
        if (!needH && !needV)
        {
            CopyRect(src, left, top, cropW, cropH, dst);
            return new RgbImage(outW, outH, dst);
        }
        var (vBounds, vK, vSize) = Coefficients(cropH, outH);
        if (!needH)
        {
            Vertical(src.Pixels, src.Width * 3, left * 3, top, cropW, vBounds, vK, vSize, dst, outH);
            return new RgbImage(outW, outH, dst);
        }
        var (hBounds, hK, hSize) = Coefficients(cropW, outW);
        if (!needV)
        {
            Horizontal(src.Pixels, src.Width * 3, left, top, cropH, hBounds, hK, hSize, dst, outW);
            return new RgbImage(outW, outH, dst);
        }
        // Rows of the region the vertical pass reads: only those go through the horizontal pass.
        int first = vBounds[0], last = vBounds[2 * outH - 2] + vBounds[2 * outH - 1];
        var tmp = new byte[outW * (last - first) * 3];
        Horizontal(src.Pixels, src.Width * 3, left, top + first, last - first, hBounds, hK, hSize, tmp, outW);
        for (int i = 0; i < outH; i++) vBounds[2 * i] -= first;
        Vertical(tmp, outW * 3, 0, 0, outW, vBounds, vK, vSize, dst, outH);
        return new RgbImage(outW, outH, dst);
    }

    /// <summary>Resizes the whole image.</summary>
    public static RgbImage Resize(RgbImage src, int outW, int outH) => ResizedCrop(src, 0, 0, src.Width, src.Height, outW, outH);

    static void CopyRect(RgbImage src, int left, int top, int w, int h, byte[] dst)
    {
        for (int y = 0; y < h; y++)
            Array.Copy(src.Pixels, ((top + y) * src.Width + left) * 3, dst, y * w * 3, w * 3);
    }

    /// <summary>Pillow's precompute_coeffs + normalize_coeffs_8bpc for input [0, inSize) and a bilinear filter.</summary>
    static (int[] Bounds, int[] K, int KSize) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = 1.0 * filterScale;
        int kSize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var k = new int[outSize * kSize];
        Span<double> w = kSize <= 256 ? stackalloc double[kSize] : new double[kSize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ww = 0.0, ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++)
            {
                double t = Math.Abs((x + xmin - center + 0.5) * ss);
                w[x] = t < 1.0 ? 1.0 - t : 0.0;
                ww += w[x];
            }
            for (int x = 0; x < xmax; x++)
            {
                double v = ww != 0.0 ? w[x] / ww : w[x];
                k[xx * kSize + x] = v < 0 ? (int)(-0.5 + v * (1 << PrecisionBits)) : (int)(0.5 + v * (1 << PrecisionBits));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, k, kSize);
    }

    static byte Clip8(int v)
    {
        v >>= PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>Horizontal pass over <paramref name="rows"/> rows starting at <paramref name="top"/>, columns offset by <paramref name="left"/>.</summary>
    static void Horizontal(byte[] src, int srcStride, int left, int top, int rows, int[] bounds, int[] k, int kSize, byte[] dst, int outW)
    {
        const int half = 1 << (PrecisionBits - 1);
        for (int y = 0; y < rows; y++)
        {
            int rowBase = (top + y) * srcStride + left * 3;
            int o = y * outW * 3;
            for (int xx = 0; xx < outW; xx++, o += 3)
            {
                int xmin = bounds[2 * xx], xmax = bounds[2 * xx + 1], kb = xx * kSize;
                int s0 = half, s1 = half, s2 = half;
                int p = rowBase + xmin * 3;
                for (int x = 0; x < xmax; x++, p += 3)
                {
                    int c = k[kb + x];
                    s0 += src[p] * c; s1 += src[p + 1] * c; s2 += src[p + 2] * c;
                }
                dst[o] = Clip8(s0); dst[o + 1] = Clip8(s1); dst[o + 2] = Clip8(s2);
            }
        }
    }

    /// <summary>Vertical pass: <paramref name="width"/> pixels per row starting at byte <paramref name="colOffset"/>, row bounds relative to <paramref name="top"/>.</summary>
    static void Vertical(byte[] src, int srcStride, int colOffset, int top, int width, int[] bounds, int[] k, int kSize, byte[] dst, int outH)
    {
        const int half = 1 << (PrecisionBits - 1);
        int rowBytes = width * 3;
        var acc = new int[rowBytes];
        for (int yy = 0; yy < outH; yy++)
        {
            int ymin = bounds[2 * yy], ymax = bounds[2 * yy + 1], kb = yy * kSize;
            Array.Fill(acc, half);
            for (int y = 0; y < ymax; y++)
            {
                int c = k[kb + y];
                int p = (top + ymin + y) * srcStride + colOffset;
                for (int i = 0; i < rowBytes; i++) acc[i] += src[p + i] * c;
            }
            int o = yy * rowBytes;
            for (int i = 0; i < rowBytes; i++) dst[o + i] = Clip8(acc[i]);
        }
    }
}

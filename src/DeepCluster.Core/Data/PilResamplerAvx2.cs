using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepCluster.Core.Data;

/// <summary>The vectorised passes of <see cref="PilResampler"/>: the same 32-bit integer sums as the scalar passes, so the
/// same bytes, with SSE4.1 (one pixel's three channels at once, horizontally) and AVX2 (32 bytes of a row at once,
/// vertically).</summary>
public static partial class PilResampler
{
    [ThreadStatic] static bool _scalarOnly;

    /// <summary>Whether the vectorised passes run on this thread: AVX2 is present and <see cref="ScalarOnly"/> is off.</summary>
    static bool Simd => Avx2.IsSupported && !_scalarOnly;

    /// <summary>Runs the scalar passes on the calling thread (tests compare the two).</summary>
    internal static bool ScalarOnly { get => _scalarOnly; set => _scalarOnly = value; }

    /// <summary>
    /// Two output pixels per step, one per 128-bit lane: each tap's RGB(+1 byte) of both pixels widened to ints,
    /// multiplied by the two pixels' taps (<see cref="ResampleCoefficients.Pairs"/>: 0 past a pixel's own taps, so both
    /// run the longer count), summed; a last odd pixel, and pixels whose loads would pass the buffer's end, one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void HorizontalAvx2(byte[] src, int stride, int start, int rows, ResampleCoefficients c, byte[] dst)
    {
        int kSize = c.KSize, outW = c.Count;
        var half = Vector128.Create(Half);
        var half256 = Vector256.Create(Half);
        const int bits = ResampleCoefficients.PrecisionBits;
        fixed (byte* s = src, d = dst)
        fixed (int* bounds = c.Bounds, k = c.K, pairs = c.Pairs)
        {
            // A 4-byte load at the last pixel of the buffer would read past it: such pixels take the scalar pass.
            long lastLoad = src.Length - 4;
            for (int y = 0; y < rows; y++)
            {
                int rowBase = start + y * stride;
                byte* o = d + y * outW * 3;
                int xx = 0;
                for (; xx + 1 < outW; xx += 2, o += 6)
                {
                    int pa = rowBase + bounds[2 * xx] * 3, pb = rowBase + bounds[2 * xx + 2] * 3;
                    int taps = Math.Max(bounds[2 * xx + 1], bounds[2 * xx + 3]);
                    if (pb + (taps - 1) * 3L > lastLoad || pa + (taps - 1) * 3L > lastLoad) break;
                    byte* a = s + pa, b = s + pb;
                    int* w = pairs + xx / 2 * kSize * 8;
                    var acc = half256;
                    for (int t = 0; t < taps; t++, a += 3, b += 3, w += 8)
                    {
                        var v = Vector256.Create(Sse41.ConvertToVector128Int32(a), Sse41.ConvertToVector128Int32(b));
                        acc = Avx2.Add(acc, Avx2.MultiplyLow(v, Avx.LoadVector256(w)));
                    }
                    acc = Avx2.ShiftRightArithmetic(acc, bits);
                    var words = Avx2.PackSignedSaturate(acc, acc);
                    var bytes = Avx2.PackUnsignedSaturate(words, words).AsUInt32();
                    uint va = bytes.GetLower().ToScalar(), vb = bytes.GetUpper().ToScalar();
                    o[0] = (byte)va; o[1] = (byte)(va >> 8); o[2] = (byte)(va >> 16);
                    o[3] = (byte)vb; o[4] = (byte)(vb >> 8); o[5] = (byte)(vb >> 16);
                }
                for (; xx < outW; xx++, o += 3)
                {
                    int xmin = bounds[2 * xx], taps = bounds[2 * xx + 1];
                    int p0 = rowBase + xmin * 3;
                    if (p0 + (taps - 1) * 3L > lastLoad)
                    {
                        HorizontalScalarPixel(src, p0, taps, k + xx * kSize, o);
                        continue;
                    }
                    byte* p = s + p0;
                    int* kk = k + xx * kSize;
                    var acc = half;
                    for (int x = 0; x < taps; x++, p += 3)
                        acc = Sse2.Add(acc, Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(p), Vector128.Create(kk[x])));
                    acc = Sse2.ShiftRightArithmetic(acc, ResampleCoefficients.PrecisionBits);
                    var words = Sse2.PackSignedSaturate(acc, acc);
                    uint v = Sse2.PackUnsignedSaturate(words, words).AsUInt32().ToScalar();
                    o[0] = (byte)v; o[1] = (byte)(v >> 8); o[2] = (byte)(v >> 16);
                }
            }
        }
    }

    static unsafe void HorizontalScalarPixel(byte[] src, int p, int taps, int* k, byte* o)
    {
        int s0 = Half, s1 = Half, s2 = Half;
        for (int x = 0; x < taps; x++, p += 3)
        {
            int w = k[x];
            s0 += src[p] * w; s1 += src[p + 1] * w; s2 += src[p + 2] * w;
        }
        o[0] = Clip8(s0); o[1] = Clip8(s1); o[2] = Clip8(s2);
    }

    /// <summary>32 bytes of an output row per step (four vectors of eight ints), then 8, then the scalar rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void VerticalAvx2(byte[] src, int stride, int colOffset, int rowOffset, int widthBytes, ResampleCoefficients c, byte[] dst)
    {
        int kSize = c.KSize;
        var half = Vector256.Create(Half);
        var half128 = Vector128.Create(Half);
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);   // undo the per-lane interleaving of the two packs
        const int bits = ResampleCoefficients.PrecisionBits;
        int tail = 0;
        fixed (byte* s = src, d = dst)
        fixed (int* bounds = c.Bounds, k = c.K)
        {
            for (int yy = 0; yy < c.Count; yy++)
            {
                int ymin = bounds[2 * yy], taps = bounds[2 * yy + 1];
                int* kk = k + yy * kSize;
                byte* first = s + (long)(rowOffset + ymin) * stride + colOffset;
                byte* o = d + (long)yy * widthBytes;
                int i = 0;
                for (; i + 32 <= widthBytes; i += 32)
                {
                    Vector256<int> a0 = half, a1 = half, a2 = half, a3 = half;
                    byte* p = first + i;
                    for (int y = 0; y < taps; y++, p += stride)
                    {
                        var w = Vector256.Create(kk[y]);
                        a0 = Avx2.Add(a0, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), w));
                        a1 = Avx2.Add(a1, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 8), w));
                        a2 = Avx2.Add(a2, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 16), w));
                        a3 = Avx2.Add(a3, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 24), w));
                    }
                    var w01 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(a0, bits), Avx2.ShiftRightArithmetic(a1, bits));
                    var w23 = Avx2.PackSignedSaturate(Avx2.ShiftRightArithmetic(a2, bits), Avx2.ShiftRightArithmetic(a3, bits));
                    var bytes = Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(w01, w23).AsInt32(), order);
                    bytes.Store((int*)(o + i));
                }
                for (; i + 8 <= widthBytes; i += 8)
                {
                    Vector128<int> a0 = half128, a1 = half128;
                    byte* p = first + i;
                    for (int y = 0; y < taps; y++, p += stride)
                    {
                        var w = Vector128.Create(kk[y]);
                        a0 = Sse2.Add(a0, Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(p), w));
                        a1 = Sse2.Add(a1, Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(p + 4), w));
                    }
                    var words = Sse2.PackSignedSaturate(Sse2.ShiftRightArithmetic(a0, bits), Sse2.ShiftRightArithmetic(a1, bits));
                    *(ulong*)(o + i) = Sse2.PackUnsignedSaturate(words, words).AsUInt64().ToScalar();
                }
                tail = i;
            }
        }
        if (tail < widthBytes) VerticalScalar(src, stride, colOffset, rowOffset, widthBytes, c, dst, tail);
    }
}

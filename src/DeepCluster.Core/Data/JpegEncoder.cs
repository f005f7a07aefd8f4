using System.Runtime.InteropServices;
using SkiaSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// Encodes an <see cref="RgbImage"/> as a baseline JPEG (4:2:0 chroma subsampling, like PIL's default) with the system's
/// libjpeg-turbo (TurboJPEG API, the library <see cref="TurboJpeg"/> decodes with), or with SkiaSharp where it is
/// missing. Used by <c>deepcluster pack --encoding jpeg</c>. Safe from several threads (one compressor per thread).
/// </summary>
public static unsafe class JpegEncoder
{
    const string Library = "libturbojpeg.so.0";
    const int PixelFormatRgb = 0;   // TJPF_RGB
    const int Subsampling420 = 2;   // TJSAMP_420
    const int AccurateDct = 4096;   // TJFLAG_ACCURATEDCT

    [DllImport(Library)] static extern IntPtr tjInitCompress();
    [DllImport(Library)] static extern int tjCompress2(IntPtr handle, byte* src, int width, int pitch, int height, int pixelFormat,
                                                       ref IntPtr jpeg, ref nuint size, int subsampling, int quality, int flags);
    [DllImport(Library)] static extern void tjFree(IntPtr buffer);

    [ThreadStatic] static IntPtr handle;

    /// <summary>The JPEG file bytes of <paramref name="image"/> at <paramref name="quality"/> (1–100).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A quality outside 1–100.</exception>
    public static byte[] Encode(RgbImage image, int quality)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "JPEG quality must be from 1 to 100.");
        if (TurboJpeg.Available && TryTurbo(image, quality) is { } bytes) return bytes;
        return WithSkia(image, quality);
    }

    static byte[]? TryTurbo(RgbImage image, int quality)
    {
        if (handle == IntPtr.Zero && (handle = tjInitCompress()) == IntPtr.Zero) return null;
        IntPtr jpeg = IntPtr.Zero;
        nuint size = 0;
        try
        {
            fixed (byte* src = image.Pixels)
                if (tjCompress2(handle, src, image.Width, image.Width * 3, image.Height, PixelFormatRgb, ref jpeg, ref size,
                                Subsampling420, quality, AccurateDct) != 0)
                    return null;
            return new ReadOnlySpan<byte>((void*)jpeg, checked((int)size)).ToArray();
        }
        finally { if (jpeg != IntPtr.Zero) tjFree(jpeg); }
    }

    static byte[] WithSkia(RgbImage image, int quality)
    {
        int n = image.Width * image.Height;
        var rgba = new byte[(long)n * 4];
        var px = image.Pixels;
        for (long i = 0, s = 0, o = 0; i < n; i++, s += 3, o += 4)
        {
            rgba[o] = px[s]; rgba[o + 1] = px[s + 1]; rgba[o + 2] = px[s + 2]; rgba[o + 3] = 255;
        }
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* p = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var data = pixmap.Encode(SKEncodedImageFormat.Jpeg, quality)
                             ?? throw new InvalidOperationException("SkiaSharp could not encode the JPEG");
            return data.ToArray();
        }
    }
}

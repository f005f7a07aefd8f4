using System.Runtime.InteropServices;

namespace DeepCluster.Core.Data;

/// <summary>
/// JPEG decoding with the system's libjpeg-turbo (TurboJPEG API, Debian's <c>libturbojpeg0</c>): the SIMD decoder PIL
/// uses, so decoded pixels equal PIL's bit for bit (accurate integer IDCT, fancy upsampling), where SkiaSharp's bundled
/// decoder is built without SIMD on x64 and differs from PIL by rounding. Straight into RGB, without the RGBA buffer
/// and copy of the Skia path. Without the library (<see cref="Available"/> false) every JPEG goes through SkiaSharp.
/// A file TurboJPEG does not decode cleanly (corrupt, truncated, CMYK) returns null, and the caller decodes it with
/// SkiaSharp, which reports its errors as before.
/// </summary>
public static unsafe class TurboJpeg
{
    const string Library = "libturbojpeg.so.0";
    const int PixelFormatRgb = 0;          // TJPF_RGB
    const int AccurateDct = 4096;          // TJFLAG_ACCURATEDCT: the integer IDCT PIL uses
    const int StopOnWarning = 8192;        // TJFLAG_STOPONWARNING: a truncated file is an error, not grey rows
    const int LimitScans = 32768;          // TJFLAG_LIMITSCANS: a progressive file with absurdly many scans is refused

    [DllImport(Library)] static extern IntPtr tjInitDecompress();
    [DllImport(Library)] static extern int tjDecompressHeader3(IntPtr handle, byte* jpeg, nuint size, out int width, out int height,
                                                               out int subsampling, out int colorspace);
    [DllImport(Library)] static extern int tjDecompress2(IntPtr handle, byte* jpeg, nuint size, byte* dst, int width, int pitch,
                                                         int height, int pixelFormat, int flags);

    static readonly Lazy<bool> Loaded = new(() =>
    {
        if (Environment.GetEnvironmentVariable("DEEPCLUSTER_JPEG") == "skia") return false;
        return NativeLibrary.TryLoad(Library, typeof(TurboJpeg).Assembly, null, out _);
    });

    /// <summary>Whether libturbojpeg is installed (and not turned off with <c>DEEPCLUSTER_JPEG=skia</c>).</summary>
    public static bool Available => Loaded.Value;

    /// <summary>One decompressor per thread (a TurboJPEG handle is not thread-safe), kept for the thread's life.</summary>
    [ThreadStatic] static IntPtr handle;

    /// <summary>Whether <paramref name="head"/> starts like a JPEG file (SOI marker).</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> head) => head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF;

    /// <summary>
    /// The RGB image of <paramref name="jpeg"/>, or null when TurboJPEG cannot decode it cleanly. The size the header
    /// claims is checked (<see cref="ImageCodec.CheckSize"/>) before anything is allocated.
    /// </summary>
    public static RgbImage? TryDecode(ReadOnlySpan<byte> jpeg, string source)
    {
        if (!Available || !IsJpeg(jpeg)) return null;
        if (handle == IntPtr.Zero && (handle = tjInitDecompress()) == IntPtr.Zero) return null;
        fixed (byte* src = jpeg)
        {
            if (tjDecompressHeader3(handle, src, (nuint)jpeg.Length, out var w, out var h, out _, out _) != 0 || w <= 0 || h <= 0)
                return null;
            ImageCodec.CheckSize(w, h, source);
            var rgb = new byte[(long)w * h * 3];
            fixed (byte* dst = rgb)
                if (tjDecompress2(handle, src, (nuint)jpeg.Length, dst, w, w * 3, h, PixelFormatRgb,
                                  AccurateDct | StopOnWarning | LimitScans) != 0)
                    return null;
            return new RgbImage(w, h, rgb);
        }
    }
}

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
    [DllImport(Library)] static extern int tjDestroy(IntPtr handle);

    static readonly Lazy<bool> Loaded = new(() =>
    {
        if (Environment.GetEnvironmentVariable("DEEPCLUSTER_JPEG") == "skia") return false;
        return NativeLibrary.TryLoad(Library, typeof(TurboJpeg).Assembly, null, out _);
    });

    /// <summary>Whether libturbojpeg is installed (and not turned off with <c>DEEPCLUSTER_JPEG=skia</c>).</summary>
    public static bool Available => Loaded.Value;

    /// <summary>
    /// One decompressor per thread (a TurboJPEG handle is not thread-safe), kept until a call on it fails: after some
    /// corrupt headers (a second SOI marker, for one) libjpeg-turbo 2.1 leaves the handle refusing every later file, which
    /// would send every later JPEG of the thread to SkiaSharp (other pixels). <see cref="Drop"/> throws it away instead.
    /// </summary>
    [ThreadStatic] static IntPtr handle;

    /// <summary>Destroys this thread's handle after a failed call (the next call makes a new one); returns false.</summary>
    static bool Drop()
    {
        if (handle != IntPtr.Zero) tjDestroy(handle);
        handle = IntPtr.Zero;
        return false;
    }

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
            {
                Drop();
                return null;
            }
            ImageCodec.CheckSize(w, h, source);
            long bytes = (long)w * h * 3;
            // A file far smaller than its pixels (over 32:1; photos are ~10:1) is decoded into native memory first, so a
            // corrupt header claiming millions of pixels costs no managed allocation when the decode then fails.
            bool staged = bytes > 32L * jpeg.Length;
            byte[]? rgb = staged ? null : new byte[bytes];
            byte* native = staged ? (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)bytes) : null;
            try
            {
                fixed (byte* managed = rgb)
                    if (tjDecompress2(handle, src, (nuint)jpeg.Length, staged ? native : managed, w, w * 3, h, PixelFormatRgb,
                                      AccurateDct | StopOnWarning | LimitScans) != 0)
                    {
                        Drop();
                        return null;
                    }
                rgb ??= new ReadOnlySpan<byte>(native, checked((int)bytes)).ToArray();
            }
            finally { if (native != null) System.Runtime.InteropServices.NativeMemory.Free(native); }
            return new RgbImage(w, h, rgb);
        }
    }

    /// <summary>The size the header of <paramref name="jpeg"/> claims; false when it is not a JPEG TurboJPEG can read.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> jpeg, out int width, out int height)
    {
        width = height = 0;
        if (!Available || !IsJpeg(jpeg)) return false;
        if (handle == IntPtr.Zero && (handle = tjInitDecompress()) == IntPtr.Zero) return false;
        fixed (byte* src = jpeg)
            return (tjDecompressHeader3(handle, src, (nuint)jpeg.Length, out width, out height, out _, out _) == 0 && width > 0 && height > 0)
                   || Drop();
    }

    /// <summary>Size of a <paramref name="size"/>-pixel side decoded at 1/<paramref name="denominator"/> (TurboJPEG's TJSCALED).</summary>
    public static int Scaled(int size, int denominator) => (size + denominator - 1) / denominator;

    /// <summary>
    /// Decodes <paramref name="jpeg"/> (whose header said <paramref name="width"/>x<paramref name="height"/>, already
    /// checked against <see cref="ImageCodec.MaxImagePixels"/>) into <paramref name="buffer"/>, grown when too small, as
    /// packed RGB rows of <c>Scaled(width, denominator)</c> pixels. <paramref name="denominator"/> 1 is PIL's decode;
    /// 2, 4 or 8 decode at that fraction of the size in the DCT domain (libjpeg-turbo's scaled IDCT: not PIL's pixels).
    /// False when TurboJPEG cannot decode the file cleanly.
    /// </summary>
    public static bool TryDecodeInto(ReadOnlySpan<byte> jpeg, int width, int height, int denominator, ref byte[]? buffer)
    {
        if (denominator is not (1 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(denominator), denominator, "1, 2, 4 or 8");
        if (!Available || !IsJpeg(jpeg)) return false;
        if (handle == IntPtr.Zero && (handle = tjInitDecompress()) == IntPtr.Zero) return false;
        int w = Scaled(width, denominator), h = Scaled(height, denominator);
        long bytes = (long)w * h * 3;
        if (buffer == null || buffer.Length < bytes) buffer = new byte[bytes];
        fixed (byte* src = jpeg)
        fixed (byte* dst = buffer)
            return tjDecompress2(handle, src, (nuint)jpeg.Length, dst, w, w * 3, h, PixelFormatRgb,
                                 AccurateDct | StopOnWarning | LimitScans) == 0 || Drop();
    }
}

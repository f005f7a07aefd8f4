using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// Decodes image files to <see cref="RgbImage"/> and encodes PNGs with SkiaSharp, matching PIL's
/// <c>Image.open(path).convert("RGB")</c>: grey is copied to three channels, alpha is dropped
/// (not composited), no colour management and no EXIF rotation. Binary PGM/PPM go through <see cref="PnmCodec"/>;
/// TIFF is not decoded (SkiaSharp has no TIFF codec) and fails with a message saying so.
/// </summary>
/// <remarks>
/// Decompression bombs: the size a header claims is checked, in 64-bit arithmetic, against
/// <see cref="MaxImagePixels"/> before anything is allocated, so a 69-byte PNG that claims 30000 × 30000 pixels is an
/// <see cref="ImageDecodeException"/> like any other bad file (skipped and counted with <c>--skip-bad-files</c>).
/// The RGBA buffer SkiaSharp decodes into is kept per thread only up to <see cref="ThreadBufferBytes"/>; larger images
/// get a buffer of their own, freed when the call returns.
/// </remarks>
public static class ImageCodec
{
    /// <summary>PIL's <c>Image.MAX_IMAGE_PIXELS</c>: 1024 × 1024 × 1024 / 4 / 3 pixels.</summary>
    public const long DefaultMaxImagePixels = 89_478_485;

    /// <summary>The most pixels any limit may allow: an <see cref="RgbImage"/> must fit one .NET array (3 bytes a pixel).</summary>
    public static readonly long MaxSupportedPixels = Array.MaxLength / 3;

    /// <summary>Environment variable that sets <see cref="MaxImagePixels"/> when the process starts.</summary>
    public const string MaxPixelsVariable = "DEEPCLUSTER_MAX_IMAGE_PIXELS";

    /// <summary>Largest RGBA buffer a decoding thread keeps between calls (16 MiB: 2048 × 2048 pixels).</summary>
    public const int ThreadBufferBytes = 16 << 20;

    [ThreadStatic] static byte[]? _rgba;
    static long _maxPixels = -1;

    /// <summary>
    /// The largest image (width × height) that is decoded; a file whose header claims more is rejected before any
    /// allocation with an <see cref="ImageDecodeException"/> naming the file, its size and this limit.
    /// Like PIL's <c>Image.MAX_IMAGE_PIXELS</c>, whose default (89 478 485) it shares. Set by the HOCON key
    /// <c>deepcluster.data.max-image-pixels</c>, or at start-up by the environment variable
    /// <c>DEEPCLUSTER_MAX_IMAGE_PIXELS</c>; at most <see cref="MaxSupportedPixels"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1 or more than <see cref="MaxSupportedPixels"/>.</exception>
    /// <exception cref="ArgumentException">Read while <c>DEEPCLUSTER_MAX_IMAGE_PIXELS</c> holds no valid value.</exception>
    public static long MaxImagePixels
    {
        get
        {
            var v = Interlocked.Read(ref _maxPixels);
            if (v > 0) return v;
            v = FromEnvironment();
            Interlocked.CompareExchange(ref _maxPixels, v, -1);
            return Interlocked.Read(ref _maxPixels);
        }
        set
        {
            if (value < 1 || value > MaxSupportedPixels)
                throw new ArgumentOutOfRangeException(nameof(MaxImagePixels), value,
                    $"the image pixel limit must be between 1 and {MaxSupportedPixels}.");
            Interlocked.Exchange(ref _maxPixels, value);
        }
    }

    static long FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(MaxPixelsVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultMaxImagePixels;
        if (long.TryParse(text.Replace("_", ""), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 && v <= MaxSupportedPixels)
            return v;
        throw new ArgumentException($"{MaxPixelsVariable}={text}: expected a whole number of pixels between 1 and {MaxSupportedPixels}.");
    }

    /// <summary>Throws when a <paramref name="width"/> × <paramref name="height"/> image is empty or over <see cref="MaxImagePixels"/>.</summary>
    /// <exception cref="ImageDecodeException">Names <paramref name="source"/>, the size and the limit.</exception>
    public static void CheckSize(long width, long height, string source)
    {
        if (width <= 0 || height <= 0) throw new ImageDecodeException(source, $"invalid size {width}x{height}");
        var limit = MaxImagePixels;
        var pixels = width * height; // both below 2^31: no overflow in 64 bits
        if (pixels > limit)
            throw new ImageDecodeException(source, string.Create(CultureInfo.InvariantCulture,
                $"{width}x{height} = {pixels:N0} pixels is over the limit of {limit:N0}, a possible decompression bomb; " +
                $"raise deepcluster.data.max-image-pixels or {MaxPixelsVariable} if the image is genuine"));
    }

    /// <summary>Decodes <paramref name="path"/>; throws <see cref="ImageDecodeException"/> naming the file when it is
    /// missing, unreadable, not an image, truncated, or larger than <see cref="MaxImagePixels"/>.</summary>
    public static RgbImage Decode(string path)
    {
        if (IsPnmName(path))
        {
            try
            {
                using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                var head = ReadHead(f);
                if (PnmCodec.IsPnm(head)) return PnmCodec.Decode(f, head, path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ImageDecodeException)
            {
                throw new ImageDecodeException(path, File.Exists(path) ? $"cannot read ({e.Message})" : "file not found", e);
            }
        }
        if (TurboJpeg.Available && TryTurboJpeg(path) is { } fast) return fast;
        return DecodeWithSkia(path);
    }

    /// <summary>Decodes <paramref name="path"/> with SkiaSharp (every format but PNM; JPEGs when libturbojpeg is missing).</summary>
    internal static RgbImage DecodeWithSkia(string path)
    {
        SKCodec? codec;
        SKCodecResult result;
        try { codec = SKCodec.Create(path, out result); }
        catch (Exception e) { throw new ImageDecodeException(path, $"cannot open ({e.Message})", e); }
        if (codec == null)
        {
            if (!File.Exists(path)) throw new ImageDecodeException(path, "file not found");
            if (path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tiff", StringComparison.OrdinalIgnoreCase))
                throw new ImageDecodeException(path, "TIFF is not supported by SkiaSharp; convert the file to PNG");
            throw new ImageDecodeException(path, $"not a decodable image ({result})");
        }
        using (codec) return Decode(codec, path);
    }

    /// <summary>
    /// A JPEG file decoded by libjpeg-turbo (<see cref="TurboJpeg"/>), read through a per-thread buffer once its first
    /// bytes say JPEG; null when it is not a JPEG, cannot be read here, or does not decode cleanly: SkiaSharp then
    /// decodes it, or says why not.
    /// </summary>
    static RgbImage? TryTurboJpeg(string path)
    {
        var buffer = _encoded;
        if (!TryReadJpegFile(path, ref buffer, out var length)) return null;
        var image = TurboJpeg.TryDecode(buffer.AsSpan(0, length), path);
        _encoded = buffer.Length > ThreadBufferBytes ? null : buffer;   // a huge file's buffer is not kept
        return image;
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="buffer"/> (grown when too small) when its first bytes say JPEG;
    /// false, having read only those bytes, when they do not, or when the file cannot be read here.
    /// </summary>
    internal static bool TryReadJpegFile(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] ref byte[]? buffer, out int length)
    {
        length = 0;
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            var size = RandomAccess.GetLength(file);
            if (size < 3 || size > int.MaxValue / 2) return false;
            Span<byte> head = stackalloc byte[3];   // a PNG or BMP is not read twice: only its first bytes here
            if (RandomAccess.Read(file, head, 0) < 3 || !TurboJpeg.IsJpeg(head)) return false;
            if (buffer == null || buffer.Length < size) buffer = new byte[Math.Max(size, 1 << 16)];
            var span = buffer.AsSpan(0, (int)size);
            for (int read = 0, n; read < span.Length; read += n)
                if ((n = RandomAccess.Read(file, span[read..], read)) == 0) return false;
            length = (int)size;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    [ThreadStatic] static byte[]? _encoded;

    /// <summary>Decodes an encoded image held in memory; <paramref name="source"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] encoded, string source)
    {
        if (PnmCodec.IsPnm(encoded)) return PnmCodec.Decode(encoded, source);
        if (TurboJpeg.TryDecode(encoded, source) is { } fast) return fast;
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new ImageDecodeException(source, "not a decodable image");
        return Decode(codec, source);
    }

    /// <summary>Reads only the header of <paramref name="path"/>; false when it is not a decodable image or
    /// claims more than <see cref="MaxImagePixels"/>.</summary>
    public static bool HasValidHeader(string path) => HeaderProblem(path) is null;

    /// <summary>Reads only the header of <paramref name="path"/>: null when it looks decodable, else why not
    /// (not an image, unreadable, empty, or larger than <see cref="MaxImagePixels"/>).</summary>
    public static string? HeaderProblem(string path)
    {
        try
        {
            if (IsPnmName(path))
            {
                using var f = File.OpenRead(path);
                var head = ReadHead(f);
                if (PnmCodec.IsPnm(head))
                {
                    var h = PnmCodec.ReadHeader(head, path);
                    CheckSize(h.Width, h.Height, path);
                    return null;
                }
            }
            using var codec = SKCodec.Create(path, out var result);
            if (codec == null) return File.Exists(path) ? $"not a decodable image ({result})" : "file not found";
            CheckSize(codec.Info.Width, codec.Info.Height, path);
            return null;
        }
        catch (ImageDecodeException e) { return e.Message[(e.Origin.Length + 2)..]; }
        catch (Exception e) { return $"cannot read ({e.Message})"; }
    }

    static bool IsPnmName(string path) =>
        path.EndsWith(".ppm", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase);

    static byte[] ReadHead(Stream f)
    {
        var head = new byte[(int)Math.Min(PnmCodec.MaxHeaderBytes, f.Length)];
        f.ReadExactly(head);
        return head;
    }

    static unsafe RgbImage Decode(SKCodec codec, string source)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        CheckSize(w, h, source); // before any allocation: w * h * 4 overflowed int at 23 170² and Skia wrote past the buffer
        // Unpremul so RGBA colours come back as stored; a null colour space means no colour conversion.
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        long n = (long)w * h, bytes = n * 4;
        byte[]? managed = null;
        byte* native = null;
        try
        {
            if (bytes <= ThreadBufferBytes)
            {
                managed = _rgba;
                if (managed == null || managed.Length < bytes) _rgba = managed = new byte[Math.Max(bytes, 1 << 16)];
            }
            else native = (byte*)NativeMemory.Alloc((nuint)bytes);
            SKCodecResult r;
            fixed (byte* pinned = managed)
            {
                var rgba = native != null ? native : pinned;
                r = codec.GetPixels(info, (IntPtr)rgba);
                if (r != SKCodecResult.Success)
                    throw new ImageDecodeException(source, r == SKCodecResult.IncompleteInput
                        ? "truncated image (incomplete input)" : $"decoding failed ({r})");
                var rgb = new byte[n * 3];
                fixed (byte* o = rgb)
                    for (long i = 0, s = 0, d = 0; i < n; i++, s += 4, d += 3)
                    {
                        o[d] = rgba[s]; o[d + 1] = rgba[s + 1]; o[d + 2] = rgba[s + 2];
                    }
                return new RgbImage(w, h, rgb);
            }
        }
        finally
        {
            if (native != null) NativeMemory.Free(native);
        }
    }

    /// <summary>Encodes <paramref name="image"/> as an opaque 8-bit RGB PNG (lossless).</summary>
    public static byte[] EncodePng(RgbImage image)
    {
        int n = image.Width * image.Height;
        var rgba = new byte[(long)n * 4];
        var px = image.Pixels;
        for (long i = 0, s = 0, o = 0; i < n; i++, s += 3, o += 4)
        {
            rgba[o] = px[s]; rgba[o + 1] = px[s + 1]; rgba[o + 2] = px[s + 2]; rgba[o + 3] = 255;
        }
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                             ?? throw new InvalidOperationException("SkiaSharp could not encode the PNG");
            return data.ToArray();
        }
        finally { handle.Free(); }
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> as an RGB PNG.</summary>
    public static void SavePng(RgbImage image, string path) => File.WriteAllBytes(path, EncodePng(image));
}

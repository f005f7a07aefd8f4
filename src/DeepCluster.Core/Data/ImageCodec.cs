using System.Runtime.InteropServices;
using SkiaSharp;

namespace DeepCluster.Core.Data;

/// <summary>
/// Decodes image files to <see cref="RgbImage"/> and encodes PNGs with SkiaSharp, matching PIL's
/// <c>Image.open(path).convert("RGB")</c>: grey is copied to three channels, alpha is dropped
/// (not composited), no colour management and no EXIF rotation. Binary PGM/PPM go through <see cref="PnmCodec"/>;
/// TIFF is not decoded (SkiaSharp has no TIFF codec) and fails with a message saying so.
/// </summary>
public static class ImageCodec
{
    [ThreadStatic] static byte[]? _rgba;

    /// <summary>Decodes <paramref name="path"/>; throws <see cref="ImageDecodeException"/> naming the file when it is
    /// missing, unreadable, not an image, or truncated.</summary>
    public static RgbImage Decode(string path)
    {
        if (path.EndsWith(".ppm", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase))
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageDecodeException(path, $"cannot read ({e.Message})", e); }
            if (PnmCodec.IsPnm(bytes)) return PnmCodec.Decode(bytes, path);
            return Decode(bytes, path);
        }
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

    /// <summary>Decodes an encoded image held in memory; <paramref name="source"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] encoded, string source)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new ImageDecodeException(source, "not a decodable image");
        return Decode(codec, source);
    }

    /// <summary>Reads only the header of <paramref name="path"/>; false when it is not a decodable image.</summary>
    public static bool HasValidHeader(string path)
    {
        try
        {
            if (path.EndsWith(".ppm", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase))
            {
                Span<byte> head = stackalloc byte[2];
                using var f = File.OpenRead(path);
                if (f.Read(head) == 2 && PnmCodec.IsPnm(head)) return true;
            }
            using var codec = SKCodec.Create(path, out _);
            return codec != null && codec.Info.Width > 0 && codec.Info.Height > 0;
        }
        catch (Exception) { return false; }
    }

    static unsafe RgbImage Decode(SKCodec codec, string source)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0) throw new ImageDecodeException(source, $"invalid size {w}x{h}");
        // Unpremul so RGBA colours come back as stored; a null colour space means no colour conversion.
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        int n = w * h;
        var rgba = _rgba;
        if (rgba == null || rgba.Length < n * 4) _rgba = rgba = new byte[Math.Max(n * 4, 1 << 16)];
        SKCodecResult r;
        fixed (byte* p = rgba) r = codec.GetPixels(info, (IntPtr)p);
        if (r != SKCodecResult.Success)
            throw new ImageDecodeException(source, r == SKCodecResult.IncompleteInput
                ? "truncated image (incomplete input)" : $"decoding failed ({r})");
        var rgb = new byte[n * 3];
        for (int i = 0, s = 0, o = 0; i < n; i++, s += 4, o += 3)
        {
            rgb[o] = rgba[s]; rgb[o + 1] = rgba[s + 1]; rgb[o + 2] = rgba[s + 2];
        }
        return new RgbImage(w, h, rgb);
    }

    /// <summary>Encodes <paramref name="image"/> as an opaque 8-bit RGB PNG (lossless).</summary>
    public static byte[] EncodePng(RgbImage image)
    {
        int n = image.Width * image.Height;
        var rgba = new byte[n * 4];
        var px = image.Pixels;
        for (int i = 0, s = 0, o = 0; i < n; i++, s += 3, o += 4)
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

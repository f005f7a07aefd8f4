using System.Buffers.Binary;
using System.IO.Compression;
using DeepCluster.Core.Data;
using SkiaSharp;

namespace DeepCluster.Core.Tests.Data;

/// <summary>Small image files whose headers claim a size of our choosing (decompression bombs), built byte by byte.</summary>
static class CraftedImages
{
    /// <summary>
    /// A 69-byte PNG: signature, IHDR claiming <paramref name="width"/> × <paramref name="height"/> 8-bit RGBA,
    /// a few bytes of deflated scanlines, IEND. Every chunk has a valid CRC, so the header passes any check.
    /// </summary>
    public static byte[] Png(int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 6; // 8 bits, RGBA
        Chunk(ms, "IHDR", ihdr);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.SmallestSize, leaveOpen: true)) zs.Write(new byte[64]);
        Chunk(ms, "IDAT", z.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>A real 16 × 16 baseline JPEG whose SOF0 marker is patched to claim <paramref name="width"/> × <paramref name="height"/>.</summary>
    public static byte[] Jpeg(int width, int height)
    {
        using var bitmap = new SKBitmap(16, 16);
        bitmap.Erase(SKColors.Teal);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        var jpg = data.ToArray();
        for (int i = 2; i + 9 < jpg.Length; i++)
            if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(i + 7), (ushort)width);
                return jpg;
            }
        throw new InvalidOperationException("no SOF0 marker in the encoded JPEG");
    }

    /// <summary>A binary PPM header claiming <paramref name="width"/> × <paramref name="height"/>, followed by a few pixels.</summary>
    public static byte[] Ppm(int width, int height) =>
        [.. System.Text.Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n"), .. new byte[30]];

    static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        s.Write(word);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320).</summary>
    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xffffffffu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>Sets <see cref="ImageCodec.MaxImagePixels"/> until disposed (test collections run one at a time).</summary>
    public sealed class PixelLimit : IDisposable
    {
        readonly long _saved = ImageCodec.MaxImagePixels;
        public PixelLimit(long limit) => ImageCodec.MaxImagePixels = limit;
        public void Dispose() => ImageCodec.MaxImagePixels = _saved;
    }
}

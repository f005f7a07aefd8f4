namespace DeepCluster.Core.Data;

/// <summary>
/// Binary netpbm images (.ppm P6 colour, .pgm P5 grey, 8-bit, maxval 255), which SkiaSharp does not decode
/// but torchvision's ImageFolder lists. The header is parsed and its size checked against
/// <see cref="ImageCodec.MaxImagePixels"/> and the file length before the pixels are allocated.
/// </summary>
public static class PnmCodec
{
    /// <summary>Longest header (magic, comments, sizes, maxval) this reader accepts.</summary>
    public const int MaxHeaderBytes = 4096;

    /// <summary>A parsed P5/P6 header.</summary>
    /// <param name="Width">Width in pixels.</param>
    /// <param name="Height">Height in pixels.</param>
    /// <param name="Colour">True for P6 (RGB), false for P5 (grey).</param>
    /// <param name="DataOffset">Offset of the first pixel byte.</param>
    public readonly record struct Header(int Width, int Height, bool Colour, int DataOffset)
    {
        /// <summary>Bytes of pixel data the header promises.</summary>
        public long DataBytes => (long)Width * Height * (Colour ? 3 : 1);
    }

    /// <summary>True when <paramref name="header"/> starts like a binary PGM/PPM file.</summary>
    public static bool IsPnm(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == (byte)'P' && header[1] is (byte)'5' or (byte)'6';

    /// <summary>Parses the header at the start of <paramref name="data"/> (which may hold more than the header).</summary>
    /// <exception cref="ImageDecodeException">Not P5/P6, malformed, maxval other than 255, or not a positive size.</exception>
    public static Header ReadHeader(ReadOnlySpan<byte> data, string source)
    {
        if (!IsPnm(data)) throw new ImageDecodeException(source, "not a binary PGM/PPM file");
        bool colour = data[1] == (byte)'6';
        int pos = 2;
        int width = Field(data, ref pos, source), height = Field(data, ref pos, source), maxval = Field(data, ref pos, source);
        if (pos >= data.Length || !char.IsWhiteSpace((char)data[pos])) throw new ImageDecodeException(source, "bad PGM/PPM header");
        pos++; // the single whitespace byte after maxval
        if (maxval != 255) throw new ImageDecodeException(source, $"PGM/PPM with maxval {maxval} is not supported (only 255)");
        if (width <= 0 || height <= 0) throw new ImageDecodeException(source, $"invalid size {width}x{height}");
        return new Header(width, height, colour, pos);
    }

    /// <summary>Decodes a P5/P6 file held in <paramref name="data"/>; <paramref name="source"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] data, string source)
    {
        var h = ReadHeader(data, source);
        ImageCodec.CheckSize(h.Width, h.Height, source);
        if (data.Length - h.DataOffset < h.DataBytes) throw new ImageDecodeException(source, "truncated image (incomplete input)");
        var pixels = data.AsSpan(h.DataOffset, (int)h.DataBytes);
        return h.Colour ? new RgbImage(h.Width, h.Height, pixels.ToArray()) : RgbImage.FromGrey(h.Width, h.Height, pixels);
    }

    /// <summary>
    /// Decodes the P5/P6 file open in <paramref name="file"/>, whose first bytes are <paramref name="head"/>
    /// (at least the whole header, or the whole file). Reads no more than the header promises, after checking it.
    /// </summary>
    public static RgbImage Decode(FileStream file, ReadOnlySpan<byte> head, string source)
    {
        var h = ReadHeader(head, source);
        ImageCodec.CheckSize(h.Width, h.Height, source);
        if (file.Length - h.DataOffset < h.DataBytes) throw new ImageDecodeException(source, "truncated image (incomplete input)");
        var pixels = new byte[h.DataBytes];
        file.Position = h.DataOffset;
        file.ReadExactly(pixels);
        return h.Colour ? new RgbImage(h.Width, h.Height, pixels) : RgbImage.FromGrey(h.Width, h.Height, pixels);
    }

    static int Field(ReadOnlySpan<byte> d, ref int pos, string source)
    {
        while (pos < d.Length && (char.IsWhiteSpace((char)d[pos]) || d[pos] == (byte)'#'))
        {
            if (d[pos] == (byte)'#') while (pos < d.Length && d[pos] != (byte)'\n') pos++;
            else pos++;
        }
        long v = 0; int start = pos;
        while (pos < d.Length && d[pos] >= (byte)'0' && d[pos] <= (byte)'9' && v <= int.MaxValue) v = v * 10 + (d[pos++] - '0');
        if (pos == start || v > int.MaxValue || pos >= d.Length) throw new ImageDecodeException(source, "bad PGM/PPM header");
        return (int)v;
    }
}

namespace DeepCluster.Core.Data;

/// <summary>
/// Binary netpbm images (.ppm P6 colour, .pgm P5 grey, 8-bit, maxval 255), which SkiaSharp does not decode
/// but torchvision's ImageFolder lists.
/// </summary>
public static class PnmCodec
{
    /// <summary>True when <paramref name="header"/> starts like a binary PGM/PPM file.</summary>
    public static bool IsPnm(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == (byte)'P' && header[1] is (byte)'5' or (byte)'6';

    /// <summary>Decodes a P5/P6 file held in <paramref name="data"/>; <paramref name="source"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] data, string source)
    {
        if (!IsPnm(data)) throw new ImageDecodeException(source, "not a binary PGM/PPM file");
        bool colour = data[1] == (byte)'6';
        int pos = 2;
        int width = Field(data, ref pos, source), height = Field(data, ref pos, source), maxval = Field(data, ref pos, source);
        pos++; // the single whitespace byte after maxval
        if (maxval != 255) throw new ImageDecodeException(source, $"PGM/PPM with maxval {maxval} is not supported (only 255)");
        if (width <= 0 || height <= 0) throw new ImageDecodeException(source, $"invalid size {width}x{height}");
        long need = (long)width * height * (colour ? 3 : 1);
        if (data.Length - pos < need) throw new ImageDecodeException(source, "truncated image (incomplete input)");
        return colour ? new RgbImage(width, height, data.AsSpan(pos, (int)need).ToArray())
                      : RgbImage.FromGrey(width, height, data.AsSpan(pos, (int)need));
    }

    static int Field(byte[] d, ref int pos, string source)
    {
        while (pos < d.Length && (char.IsWhiteSpace((char)d[pos]) || d[pos] == (byte)'#'))
        {
            if (d[pos] == (byte)'#') while (pos < d.Length && d[pos] != (byte)'\n') pos++;
            else pos++;
        }
        long v = 0; int start = pos;
        while (pos < d.Length && d[pos] >= (byte)'0' && d[pos] <= (byte)'9' && v < int.MaxValue) v = v * 10 + (d[pos++] - '0');
        if (pos == start || v > int.MaxValue) throw new ImageDecodeException(source, "bad PGM/PPM header");
        return (int)v;
    }
}

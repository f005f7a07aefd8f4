namespace DeepCluster.Core.Data;

/// <summary>Exact pixel operations shared by the transforms (PIL semantics).</summary>
public static class ImageOps
{
    /// <summary>PIL <c>crop</c>: the <paramref name="width"/>x<paramref name="height"/> box at (<paramref name="left"/>, <paramref name="top"/>);
    /// parts outside the image are black.</summary>
    public static RgbImage Crop(RgbImage src, int left, int top, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"crop size {width}x{height} must be positive");
        var dst = new byte[width * height * 3];
        int x0 = Math.Max(left, 0), x1 = Math.Min(left + width, src.Width);
        if (x1 > x0)
            for (int y = Math.Max(top, 0); y < Math.Min(top + height, src.Height); y++)
                Array.Copy(src.Pixels, (y * src.Width + x0) * 3, dst, ((y - top) * width + (x0 - left)) * 3, (x1 - x0) * 3);
        return new RgbImage(width, height, dst);
    }

    /// <summary>Mirrors left-right in place.</summary>
    public static void FlipHorizontalInPlace(RgbImage img)
    {
        var p = img.Pixels;
        int w = img.Width;
        for (int y = 0; y < img.Height; y++)
        {
            int a = y * w * 3, b = a + (w - 1) * 3;
            for (; a < b; a += 3, b -= 3)
            {
                (p[a], p[b]) = (p[b], p[a]);
                (p[a + 1], p[b + 1]) = (p[b + 1], p[a + 1]);
                (p[a + 2], p[b + 2]) = (p[b + 2], p[a + 2]);
            }
        }
    }

    /// <summary>A mirrored copy.</summary>
    public static RgbImage FlipHorizontal(RgbImage img)
    {
        var copy = new RgbImage(img.Width, img.Height, (byte[])img.Pixels.Clone());
        FlipHorizontalInPlace(copy);
        return copy;
    }

    /// <summary>torchvision <c>center_crop</c> box: Python <c>round</c> (half to even) of the centred offset; when the
    /// crop is larger than the image the image is padded with black as torchvision does.</summary>
    public static (int Left, int Top) CenterCropOrigin(int imageW, int imageH, int cropW, int cropH)
    {
        int left = cropW > imageW ? -((cropW - imageW) / 2) : (int)Math.Round((imageW - cropW) / 2.0, MidpointRounding.ToEven);
        int top = cropH > imageH ? -((cropH - imageH) / 2) : (int)Math.Round((imageH - cropH) / 2.0, MidpointRounding.ToEven);
        return (left, top);
    }
}

namespace DeepCluster.Core.Data;

/// <summary>
/// An 8-bit RGB image stored row-major, interleaved (HWC): pixel (x, y) channel c is at
/// <c>Pixels[(y * Width + x) * 3 + c]</c>. The unit passed between decoders and transforms.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; }
    /// <summary>Height in pixels.</summary>
    public int Height { get; }
    /// <summary>HWC bytes, exactly <c>Width * Height * 3</c> long.</summary>
    public byte[] Pixels { get; }

    /// <summary>Wraps <paramref name="pixels"/> (not copied).</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"expected {width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}", nameof(pixels));
        Width = width; Height = height; Pixels = pixels;
    }

    /// <summary>A black image of the given size.</summary>
    public RgbImage(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }

    /// <summary>Builds an RGB image from 8-bit grey values by copying each value to the three channels.</summary>
    public static RgbImage FromGrey(int width, int height, ReadOnlySpan<byte> grey)
    {
        if (grey.Length != width * height) throw new ArgumentException($"expected {width * height} grey bytes, got {grey.Length}", nameof(grey));
        var px = new byte[grey.Length * 3];
        for (int i = 0, o = 0; i < grey.Length; i++, o += 3) { var g = grey[i]; px[o] = g; px[o + 1] = g; px[o + 2] = g; }
        return new RgbImage(width, height, px);
    }

    /// <inheritdoc/>
    public override string ToString() => $"RgbImage {Width}x{Height}";
}

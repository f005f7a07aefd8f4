namespace DeepCluster.Core.Data;

/// <summary>torchvision <c>Resize</c> with bilinear interpolation (Pillow's antialiased bilinear, see <see cref="PilResampler"/>).
/// An int size sets the shorter side (the longer one is <c>int(size * long / short)</c>); a pair sets (height, width).</summary>
public sealed class Resize : IImageTransform
{
    readonly int _size, _height, _width;

    /// <summary>Shorter side becomes <paramref name="size"/>, aspect ratio kept.</summary>
    public Resize(int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), "size must be positive");
        _size = size;
    }

    /// <summary>Resizes to exactly <paramref name="height"/> x <paramref name="width"/>.</summary>
    public Resize(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "size must be positive");
        _height = height; _width = width;
    }

    /// <summary>Output (width, height) for an input of the given size, as torchvision computes it.</summary>
    public (int Width, int Height) OutputSize(int width, int height)
    {
        if (_size == 0) return (_width, _height);
        bool wShort = width <= height;
        int shortSide = wShort ? width : height, longSide = wShort ? height : width;
        int newLong = (int)((double)((long)_size * longSide) / shortSide);
        return wShort ? (_size, newLong) : (newLong, _size);
    }

    /// <inheritdoc/>
    public RgbImage Apply(RgbImage image, SampleRng rng)
    {
        var (w, h) = OutputSize(image.Width, image.Height);
        return PilResampler.Resize(image, w, h);
    }
}

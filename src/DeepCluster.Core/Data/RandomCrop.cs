namespace DeepCluster.Core.Data;

/// <summary>
/// torchvision <c>RandomCrop</c> (no padding): a <see cref="Height"/> x <see cref="Width"/> box at a uniformly drawn
/// position, the top offset drawn first and then the left one, as <c>RandomCrop.get_params</c> does.
/// </summary>
public sealed class RandomCrop : IImageTransform
{
    /// <summary>Crop height.</summary>
    public int Height { get; }
    /// <summary>Crop width.</summary>
    public int Width { get; }

    /// <summary>A square crop.</summary>
    public RandomCrop(int size) : this(size, size) { }

    /// <summary>A <paramref name="height"/> x <paramref name="width"/> crop.</summary>
    public RandomCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "crop size must be positive");
        Height = height; Width = width;
    }

    /// <inheritdoc/>
    public RgbImage Apply(RgbImage image, SampleRng rng)
    {
        if (Width > image.Width || Height > image.Height)
            throw new ArgumentException($"required crop size {Height}x{Width} is larger than input image size {image.Height}x{image.Width}");
        int top = rng.NextInt(0, image.Height - Height + 1);
        int left = rng.NextInt(0, image.Width - Width + 1);
        return top == 0 && left == 0 && Width == image.Width && Height == image.Height
            ? image : ImageOps.Crop(image, left, top, Width, Height);
    }
}

namespace DeepCluster.Core.Data;

/// <summary>torchvision <c>CenterCrop</c> (pads with black when the image is smaller than the crop).</summary>
public sealed class CenterCrop : IImageTransform
{
    /// <summary>Crop height.</summary>
    public int Height { get; }
    /// <summary>Crop width.</summary>
    public int Width { get; }

    /// <summary>A square crop.</summary>
    public CenterCrop(int size) : this(size, size) { }

    /// <summary>A <paramref name="height"/> x <paramref name="width"/> crop.</summary>
    public CenterCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "crop size must be positive");
        Height = height; Width = width;
    }

    /// <inheritdoc/>
    public RgbImage Apply(RgbImage image, SampleRng rng)
    {
        var (left, top) = ImageOps.CenterCropOrigin(image.Width, image.Height, Width, Height);
        return ImageOps.Crop(image, left, top, Width, Height);
    }
}

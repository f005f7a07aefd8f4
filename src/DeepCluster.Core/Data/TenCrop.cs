namespace DeepCluster.Core.Data;

/// <summary>torchvision <c>TenCrop</c>: the five crops (top-left, top-right, bottom-left, bottom-right, centre)
/// of the image, then the same five of its horizontal mirror.</summary>
public sealed class TenCrop : IMultiCropTransform
{
    /// <summary>Crop height.</summary>
    public int Height { get; }
    /// <summary>Crop width.</summary>
    public int Width { get; }
    /// <inheritdoc/>
    public int Crops => 10;

    /// <summary>Square crops.</summary>
    public TenCrop(int size) : this(size, size) { }

    /// <summary><paramref name="height"/> x <paramref name="width"/> crops.</summary>
    public TenCrop(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "crop size must be positive");
        Height = height; Width = width;
    }

    /// <inheritdoc/>
    public RgbImage[] Apply(RgbImage image, SampleRng rng)
    {
        if (Width > image.Width || Height > image.Height)
            throw new ArgumentException($"requested crop size {Height}x{Width} is bigger than input size {image.Height}x{image.Width}");
        var result = new RgbImage[10];
        FiveCrop(image, result, 0);
        FiveCrop(ImageOps.FlipHorizontal(image), result, 5);
        return result;
    }

    void FiveCrop(RgbImage img, RgbImage[] into, int at)
    {
        int r = img.Width - Width, b = img.Height - Height;
        into[at] = ImageOps.Crop(img, 0, 0, Width, Height);
        into[at + 1] = ImageOps.Crop(img, r, 0, Width, Height);
        into[at + 2] = ImageOps.Crop(img, 0, b, Width, Height);
        into[at + 3] = ImageOps.Crop(img, r, b, Width, Height);
        var (left, top) = ImageOps.CenterCropOrigin(img.Width, img.Height, Width, Height);
        into[at + 4] = ImageOps.Crop(img, left, top, Width, Height);
    }
}

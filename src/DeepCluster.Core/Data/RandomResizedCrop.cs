namespace DeepCluster.Core.Data;

/// <summary>A crop box: rows <see cref="Top"/>.. and columns <see cref="Left"/>.. of size <see cref="Height"/> x <see cref="Width"/>.</summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width);

/// <summary>
/// torchvision <c>RandomResizedCrop</c>: a box with area fraction in <see cref="Scale"/> and aspect ratio in
/// <see cref="Ratio"/> (log-uniform) drawn by torchvision's <c>get_params</c> (10 attempts, then a centre crop
/// clamped to the ratio range), cropped and resized to <see cref="Height"/> x <see cref="Width"/> in one bilinear pass.
/// </summary>
public sealed class RandomResizedCrop : IImageTransform
{
    /// <summary>Output height.</summary>
    public int Height { get; }
    /// <summary>Output width.</summary>
    public int Width { get; }
    /// <summary>Range of the crop's area as a fraction of the image's.</summary>
    public (double Min, double Max) Scale { get; }
    /// <summary>Range of the crop's aspect ratio (width / height).</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>Square output; scale defaults to (0.08, 1), ratio to (3/4, 4/3).</summary>
    public RandomResizedCrop(int size, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null)
        : this(size, size, scale, ratio) { }

    /// <summary><paramref name="height"/> x <paramref name="width"/> output.</summary>
    public RandomResizedCrop(int height, int width, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "size must be positive");
        Height = height; Width = width;
        Scale = scale ?? (0.08, 1.0);
        Ratio = ratio ?? (3.0 / 4.0, 4.0 / 3.0);
        if (Scale.Min > Scale.Max || Ratio.Min > Ratio.Max) throw new ArgumentException("scale and ratio should be of kind (min, max)");
    }

    /// <summary>torchvision's <c>RandomResizedCrop.get_params</c> for an image of the given size.</summary>
    public CropBox SampleBox(int imageWidth, int imageHeight, SampleRng rng)
    {
        double area = (double)imageHeight * imageWidth;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * rng.Uniform(Scale.Min, Scale.Max);
            double aspect = Math.Exp(rng.Uniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (0 < w && w <= imageWidth && 0 < h && h <= imageHeight)
            {
                int top = rng.NextInt(0, imageHeight - h + 1);
                int left = rng.NextInt(0, imageWidth - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        double inRatio = (double)imageWidth / imageHeight;
        int cw, ch;
        if (inRatio < Ratio.Min) { cw = imageWidth; ch = (int)Math.Round(cw / Ratio.Min, MidpointRounding.ToEven); }
        else if (inRatio > Ratio.Max) { ch = imageHeight; cw = (int)Math.Round(ch * Ratio.Max, MidpointRounding.ToEven); }
        else { cw = imageWidth; ch = imageHeight; }
        return new CropBox((imageHeight - ch) / 2, (imageWidth - cw) / 2, ch, cw);
    }

    /// <summary>Crops <paramref name="box"/> and resizes it to the output size (torchvision <c>resized_crop</c>).</summary>
    public RgbImage Apply(RgbImage image, CropBox box) =>
        PilResampler.ResizedCrop(image, box.Left, box.Top, box.Width, box.Height, Width, Height);

    /// <inheritdoc/>
    public RgbImage Apply(RgbImage image, SampleRng rng) => Apply(image, SampleBox(image.Width, image.Height, rng));
}

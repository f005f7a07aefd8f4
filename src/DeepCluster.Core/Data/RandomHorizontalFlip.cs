namespace DeepCluster.Core.Data;

/// <summary>torchvision <c>RandomHorizontalFlip</c>: mirrors with probability <see cref="P"/> (one draw per image).</summary>
public sealed class RandomHorizontalFlip(double p = 0.5) : IImageTransform
{
    /// <summary>Flip probability.</summary>
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), "p must be in [0, 1]");

    /// <inheritdoc/>
    public RgbImage Apply(RgbImage image, SampleRng rng) =>
        rng.NextDouble() < P ? ImageOps.FlipHorizontal(image) : image;
}

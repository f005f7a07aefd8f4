namespace DeepCluster.Core.Data;

/// <summary>torchvision's <c>Normalize</c>: <c>(x - mean[c]) / std[c]</c> in float32. Executed by <see cref="Compose"/> after <see cref="ToTensor"/>.</summary>
public sealed class Normalize : ITransform
{
    /// <summary>Per-channel means (R, G, B).</summary>
    public float[] Mean { get; }
    /// <summary>Per-channel standard deviations (R, G, B).</summary>
    public float[] Std { get; }

    /// <summary>Creates the step; three means and three non-zero standard deviations.</summary>
    public Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        if (mean.Count != 3 || std.Count != 3) throw new ArgumentException($"need 3 means and 3 stds, got {mean.Count} and {std.Count}");
        if (std.Any(s => s == 0f)) throw new ArgumentException("std evaluated to zero, leading to division by zero", nameof(std));
        Mean = mean.ToArray(); Std = std.ToArray();
    }

    /// <summary>Normalisation with <see cref="ImageNetStats"/>.</summary>
    public static Normalize ImageNet() => new(ImageNetStats.Mean, ImageNetStats.Std);
}

namespace DeepCluster.Core.Data;

/// <summary>The ImageNet channel statistics used by torchvision models and DeepCluster.</summary>
public static class ImageNetStats
{
    /// <summary>Per-channel mean (R, G, B) of ImageNet after ToTensor: 0.485, 0.456, 0.406.</summary>
    public static IReadOnlyList<float> Mean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>Per-channel standard deviation (R, G, B): 0.229, 0.224, 0.225.</summary>
    public static IReadOnlyList<float> Std { get; } = [0.229f, 0.224f, 0.225f];
}

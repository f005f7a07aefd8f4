namespace DeepCluster.Core.Report;

/// <summary>How many clusters and images the report shows, and how big.</summary>
public sealed record ReportOptions
{
    /// <summary>The largest clusters of the last epoch shown with sample images.</summary>
    public int LargestClusters { get; init; } = 8;
    /// <summary>Further clusters drawn at random (seeded by the experiment's seed and the epoch).</summary>
    public int RandomClusters { get; init; } = 8;
    /// <summary>Sample images per cluster.</summary>
    public int ImagesPerCluster { get; init; } = 8;
    /// <summary>Side of each square thumbnail, in pixels.</summary>
    public int Thumbnail { get; init; } = 64;

    public static ReportOptions Default { get; } = new();
}

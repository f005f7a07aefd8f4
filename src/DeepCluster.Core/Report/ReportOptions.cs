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

/// <summary>
/// What <see cref="ExperimentReport.Write"/> wrote: the page, the epochs it covers, its pictures (plots, then one row of
/// thumbnails per cluster shown), the notes it carries (why a part is missing: no labels, the dataset moved, …) and how
/// long it took.
/// </summary>
public sealed record ReportResult(string Path, int Epochs, IReadOnlyList<ReportFigure> Plots, IReadOnlyList<ReportFigure> Clusters,
                                  IReadOnlyList<string> Notes, TimeSpan Elapsed);

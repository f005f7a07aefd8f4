namespace DeepCluster.Core.Report;

/// <summary>
/// What <see cref="ExperimentReport.Write"/> wrote: the page, the epochs it covers, its pictures (plots, then one row of
/// thumbnails per cluster shown), the notes it carries (why a part is missing: no labels, the dataset moved, …) and how
/// long it took.
/// </summary>
public sealed record ReportResult(string Path, int Epochs, IReadOnlyList<ReportFigure> Plots, IReadOnlyList<ReportFigure> Clusters,
                                  IReadOnlyList<string> Notes, TimeSpan Elapsed);

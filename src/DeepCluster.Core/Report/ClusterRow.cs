namespace DeepCluster.Core.Report;

/// <summary>One cluster shown in the report: the epoch, the pick, its row of thumbnails and its majority label (null without labels).</summary>
public sealed record ClusterRow(int Epoch, ClusterPick Pick, ReportFigure Strip, string? Majority);

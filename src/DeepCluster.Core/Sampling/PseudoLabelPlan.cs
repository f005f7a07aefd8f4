namespace DeepCluster.Core.Sampling;

/// <summary>
/// An epoch's training order with its pseudo-labels: main.py's <c>cluster_assign</c> + <c>UnifLabelSampler</c>.
/// Each non-empty cluster contributes <c>int(N / non-empty) + 1</c> images (drawn with replacement only when the
/// cluster is that small), shuffled and cut to N = <c>reassign</c> × dataset size; an image's pseudo-label is the
/// rank of its cluster among the non-empty ones (ReassignedDataset's relabelling), so labels are 0..clusters-1.
/// </summary>
/// <remarks>
/// The published code uses the drawn dataset indices as positions in its ReassignedDataset (ordered by cluster), so it
/// trains on whichever image sits at that position and the epoch is not uniform per cluster; here the drawn image
/// itself is trained on, with its own cluster's label — the uniform sampling per cluster the paper describes.
/// </remarks>
public sealed record PseudoLabelPlan(int[] Order, int[] Labels, int Clusters)
{
    public static PseudoLabelPlan Create(IReadOnlyList<IReadOnlyList<int>> imagesLists, int datasetSize, double reassign, long seed)
    {
        var n = (int)(reassign * datasetSize);
        if (n <= 0) throw new ArgumentException($"--reassign {reassign}: gives no training samples for {datasetSize} images.");
        var order = new UnifLabelSampler(n, imagesLists, unchecked((int)(seed ^ (seed >> 32)))).Indexes.ToArray();
        var labels = new PseudoLabels(imagesLists, datasetSize);
        return new PseudoLabelPlan(order, order.Select(i => labels[i]).ToArray(), labels.NumUsed);
    }
}

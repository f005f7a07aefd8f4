using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Tests;

/// <summary>Two runs gave the same results: every epoch's losses, NMIs and non-empty clusters equal (timings aside).</summary>
public static class SameMetrics
{
    /// <param name="clusteringTolerance">Relative tolerance of the clustering loss: k-means spread over several workers
    /// adds the same float64 sums in other groups (0: equal bits).</param>
    public static void Assert(IReadOnlyList<EpochMetrics> expected, IReadOnlyList<EpochMetrics> actual, double clusteringTolerance = 0)
    {
        Xunit.Assert.Equal(expected.Select(m => m.Epoch), actual.Select(m => m.Epoch));
        foreach (var (e, a) in expected.Zip(actual))
        {
            var what = $"epoch {e.Epoch}";
            Xunit.Assert.True(Math.Abs(e.ClusteringLoss - a.ClusteringLoss) <= clusteringTolerance * Math.Abs(e.ClusteringLoss),
                              $"{what}: clustering loss {e.ClusteringLoss:R} vs {a.ClusteringLoss:R}");
            Xunit.Assert.True(e.ConvnetLoss == a.ConvnetLoss, $"{what}: ConvNet loss {e.ConvnetLoss:R} vs {a.ConvnetLoss:R}");
            Xunit.Assert.True(e.NmiPrevious == a.NmiPrevious, $"{what}: NMI prev {e.NmiPrevious:R} vs {a.NmiPrevious:R}");
            Xunit.Assert.True(e.NmiLabels == a.NmiLabels, $"{what}: NMI labels {e.NmiLabels:R} vs {a.NmiLabels:R}");
            Xunit.Assert.Equal(e.NonEmptyClusters, a.NonEmptyClusters);
        }
    }
}

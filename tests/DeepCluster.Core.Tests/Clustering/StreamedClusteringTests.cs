using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

public class StreamedClusteringTests
{
    public StreamedClusteringTests() => TorchRuntime.EnsureLoaded();

    static string Write(TempDir dir, out Tensor x)
    {
        var (blobs, _) = Blobs.Make(4000, 40, 12, seed: 17, spread: 4, noise: 1);
        x = blobs.add_(3).relu_();                                           // non-negative, large mean: like CNN features
        var path = dir.File("features.npy");
        NpyFile.WriteTensor(path, x);
        return path;
    }

    [Fact]
    public void FileRunStreamsAndEqualsTheInMemoryRun()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = Write(dir, out var x);
        var streamed = ClusteringRunner.Run(path, "Kmeans", 30, 16, 10, 1234, CPU);
        var memory = ClusteringRunner.Run(x, "Kmeans", 30, 16, 10, 1234, CPU);
        // The in-memory PCA centres on a float32 mean and takes one product over all rows; the streamed one merges
        // float64 statistics of chunks: the features agree to float32 rounding (~1e-6), which can move a point that
        // sits on a boundary between two clusters, nothing more.
        int differ = memory.Assignments.Where((a, i) => a != streamed.Assignments[i]).Count();
        Assert.True(differ <= 4, $"{differ} of 4000 assignments differ");
        for (int i = 0; i < memory.Objectives.Length; i++)
            Assert.Equal(memory.Objectives[i], streamed.Objectives[i], memory.Objectives[i] * 1e-4);
    }

    /// <summary>What the cluster does with one experiment: each range node reads its rows, the statistics are merged
    /// centrally, each node projects its rows with the merged PCA and k-means runs over the ranges.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    public void RangeByRangePipelineEqualsSingleNodeClustering(int parts)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = Write(dir, out _);
        var file = new NpyRowChunks(path);
        var bounds = Enumerable.Range(0, parts + 1).Select(i => file.Rows * i / parts).ToArray();

        var stats = Enumerable.Range(0, parts).Select(i => PcaStatistics.OfFile(file, bounds[i], bounds[i + 1] - bounds[i], 250)).ToList();
        using var merged = PcaStatistics.Merge(stats);
        stats.ForEach(s => s.Dispose());
        using var pca = merged.Fit(16);
        var ranges = Enumerable.Range(0, parts)
            .Select(i => new KMeansRange(StreamingPreprocessing.Apply(file, bounds[i], bounds[i + 1] - bounds[i], pca, 250), bounds[i]))
            .ToList();
        using var distributed = DistributedKMeans.Fit(ranges, 30, new KMeansOptions { Iterations = 10, Seed = 1234 });
        ranges.ForEach(r => r.Dispose());

        var single = ClusteringRunner.Run(path, "Kmeans", 30, 16, 10, 1234, CPU);
        Assert.Equal(single.Assignments, distributed.Assignments.data<long>().ToArray());
        for (int i = 0; i < single.Objectives.Length; i++)
            Assert.Equal(single.Objectives[i], distributed.Objectives[i], single.Objectives[i] * 1e-4);
    }
}

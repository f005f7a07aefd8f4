using DeepCluster.Core.Clustering;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

public class DistributedKMeansTests
{
    public DistributedKMeansTests() => TorchRuntime.EnsureLoaded();

    /// <summary>5 000 × 64 clustered points; one row in five is a copy of row 0, so that several initial centroids
    /// coincide and faiss's empty-cluster splitting runs.</summary>
    static Tensor Points()
    {
        var (x, _) = Blobs.Make(5000, 64, 20, seed: 3, spread: 5, noise: 1);
        using var first = x[0].clone();
        for (int i = 5; i < 5000; i += 5) x[i].copy_(first);
        return x;
    }

    static List<KMeansRange> Split(Tensor x, int parts, bool useBounds)
    {
        long n = x.shape[0];
        return Enumerable.Range(0, parts).Select(i =>
        {
            long a = n * i / parts, b = n * (i + 1) / parts;
            return new KMeansRange(x.narrow(0, a, b - a), a, useBounds);
        }).ToList();
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(7, true)]
    [InlineData(7, false)]
    public void RangesGiveTheSingleNodeClustering(int parts, bool useBounds)
    {
        using var scope = NewDisposeScope();
        var x = Points();
        var options = new KMeansOptions { Iterations = 15, Seed = 31, UseBounds = useBounds };
        using var single = KMeans.Fit(x, 60, options);
        Assert.True(single.Iterations.Sum(i => i.Splits) > 0, "the data should make faiss split empty clusters");

        var ranges = Split(x, parts, useBounds);
        var seen = new List<KMeansIteration>();
        using var distributed = DistributedKMeans.Fit(ranges, 60, options with { Progress = seen.Add });
        ranges.ForEach(r => r.Dispose());

        Assert.Equal(single.Assignments.data<long>().ToArray(), distributed.Assignments.data<long>().ToArray());
        Assert.Equal(single.Iterations.Select(i => i.Splits), distributed.Iterations.Select(i => i.Splits));
        Assert.Equal(distributed.Objectives, seen.Select(s => s.Objective));
        for (int i = 0; i < single.Objectives.Count; i++)
            Assert.True(Math.Abs(single.Objectives[i] - distributed.Objectives[i]) <= 1e-4 * single.Objectives[i],
                        $"iteration {i}: objective {distributed.Objectives[i]} vs single-node {single.Objectives[i]}");
        Assert.Equal(single.AssignmentObjective, distributed.AssignmentObjective, single.AssignmentObjective * 1e-4);
        Assert.True((single.Centroids - distributed.Centroids).abs().max().item<float>() < 1e-4);
        Assert.Equal(single.ImagesLists, distributed.ImagesLists);
    }

    [Fact]
    public void SplitDoesNotChangeTheResult()
    {
        using var scope = NewDisposeScope();
        var x = Points();
        var options = new KMeansOptions { Iterations = 10, Seed = 7 };
        var one = Split(x, 1, true);
        var seven = Split(x, 7, true);
        using var a = DistributedKMeans.Fit(one, 40, options);
        using var b = DistributedKMeans.Fit(seven, 40, options);
        one.Concat(seven).ToList().ForEach(r => r.Dispose());
        Assert.Equal(a.Assignments.data<long>().ToArray(), b.Assignments.data<long>().ToArray());
        for (int i = 0; i < a.Objectives.Count; i++)
            Assert.Equal(a.Objectives[i], b.Objectives[i], a.Objectives[i] * 1e-9);
    }

    [Fact]
    public void PartialsMergeByAddition()
    {
        using var scope = NewDisposeScope();
        var x = Points();
        var ranges = Split(x, 3, false);
        var centroids = x.narrow(0, 0, 10).clone();
        var parts = ranges.Select(r => r.Step(centroids)).ToList();
        using var total = KMeansPartial.Merge(parts);
        using var whole = new KMeansRange(x, 0, false);
        using var direct = whole.Step(centroids);
        Assert.Equal(direct.Counts, total.Counts);
        Assert.Equal(5000, total.Points);
        Assert.True((direct.Sums - total.Sums).abs().max().item<double>() < 1e-9);
        // float32 distances from differently blocked products: equal to float32 rounding.
        Assert.Equal(direct.Objective, total.Objective, direct.Objective * 1e-6);
        parts.ForEach(p => p.Dispose());
        ranges.ForEach(r => r.Dispose());
    }

    [Fact]
    public void RangesMustTileTheRows()
    {
        using var scope = NewDisposeScope();
        var x = Points();
        using var a = new KMeansRange(x.narrow(0, 0, 100), 0);
        using var b = new KMeansRange(x.narrow(0, 200, 100), 200);
        var e = Assert.Throws<ArgumentException>(() => DistributedKMeans.Fit([a, b], 5));
        Assert.Contains("expected 100", e.Message);
    }
}

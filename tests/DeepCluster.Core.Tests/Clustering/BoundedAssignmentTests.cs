using DeepCluster.Core.Clustering;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

/// <summary>k-means with Hamerly's bounds must give what a full search every iteration gives.</summary>
public class BoundedAssignmentTests
{
    public BoundedAssignmentTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("blobs")]
    [InlineData("uniform")]
    [InlineData("sphere")]
    public void SameIterationsAsAFullSearch(string kind)
    {
        using var scope = NewDisposeScope();
        var x = kind switch
        {
            "blobs" => Blobs.Make(4000, 24, 40, seed: 5, spread: 4, noise: 1).X,
            "uniform" => rand(4000, 24, generator: new Generator(1)),
            _ => FeaturePreprocessing.L2Normalize(randn(4000, 64, generator: new Generator(2))),   // like DeepCluster's features
        };
        var searched = new List<double>();
        using var full = KMeans.Fit(x, 50, new KMeansOptions { Seed = 9, UseBounds = false });
        using var bounded = KMeans.Fit(x, 50, new KMeansOptions { Seed = 9, UseBounds = true });
        Assert.Equal(full.Objectives.Count, bounded.Objectives.Count);
        for (int i = 0; i < full.Objectives.Count; i++)
            Assert.True(Math.Abs(full.Objectives[i] - bounded.Objectives[i]) <= 1e-5 * full.Objectives[i],
                $"iteration {i}: {full.Objectives[i]} vs {bounded.Objectives[i]}");
        var a = full.Assignments.data<long>().ToArray();
        var b = bounded.Assignments.data<long>().ToArray();
        Assert.True(a.Zip(b, (p, q) => p != q).Count(d => d) <= a.Length / 1000, "assignments differ beyond float ties");
    }

    [Fact]
    public void SkipsMostPointsOnceCentroidsSettle()
    {
        using var scope = NewDisposeScope();
        var (x, _) = Blobs.Make(5000, 16, 20, seed: 8, spread: 10, noise: 0.5);
        var xa = ChunkedSearch.Augment(x);
        var norms = ChunkedSearch.SquaredNorms(x);
        using var bounded = new BoundedAssignment(x, xa, norms);
        var centroids = x.narrow(0, 0, 20).clone();
        var (d0, a0) = bounded.Assign(centroids);
        Assert.Equal(1.0, bounded.SearchedFraction);
        var (d1, a1) = bounded.Assign(centroids);                 // centroids did not move: nothing to search
        Assert.True(bounded.SearchedFraction < 0.05, $"searched {bounded.SearchedFraction:P1}");
        Assert.Equal(a0.data<long>().ToArray(), a1.data<long>().ToArray());
        var (dFull, aFull) = ChunkedSearch.Nearest(x, centroids);
        Assert.True((d1 - dFull).abs().max().item<float>() < 1e-2);
        Assert.Equal(aFull.data<long>().ToArray(), a1.data<long>().ToArray());
    }
}

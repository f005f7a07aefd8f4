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

    [Fact]
    public void SearchesEveryPointAfterTheBoundsFailedAndStaysExact()
    {
        using var scope = NewDisposeScope();
        // Uniform points; the centroids jump (fresh ones) at iterations 1 and 3 and barely move otherwise. A jump
        // defeats the bounds, so after a bounded iteration that searched more than half of the points the next one
        // searches all, after the second failure the next two; every assignment still equals a full search's.
        var x = rand(3000, 16, generator: new Generator(4));
        var xa = ChunkedSearch.Augment(x);
        var norms = ChunkedSearch.SquaredNorms(x);
        using var bounded = new BoundedAssignment(x, xa, norms);
        var fractions = new List<double>();
        var centroids = rand(30, 16, generator: new Generator(100));
        for (int it = 0; it < 8; it++)
        {
            using var step = NewDisposeScope();
            var moved = it is 1 or 3
                ? rand(30, 16, generator: new Generator((ulong)(100 + it)))
                : centroids + randn(30, 16, generator: new Generator((ulong)(200 + it))) * 1e-3f;
            centroids.copy_(moved);
            var (d, a) = bounded.Assign(centroids);
            fractions.Add(bounded.SearchedFraction);
            var (dFull, aFull) = ChunkedSearch.Nearest(x, centroids);
            var same = a.eq(aFull).sum().item<long>();
            Assert.True(same >= x.shape[0] - 3, $"iteration {it}: {x.shape[0] - same} assignments differ from a full search");
            Assert.True((d - dFull).abs().max().item<float>() < 1e-4, $"iteration {it}: distances differ from a full search");
        }
        // 0: first search; 1: bounded, fails (> half searched); 2: full; 3: bounded, fails; 4, 5: full; 6, 7: bounded.
        Assert.Equal(1.0, fractions[0]);
        Assert.True(fractions[1] > BoundedAssignment.FullSearchAbove, $"bounds held for {1 - fractions[1]:P0} of points");
        Assert.Equal(new[] { 1.0, 1.0, 1.0 }, new[] { fractions[2], fractions[4], fractions[5] });
        Assert.True(fractions[3] > BoundedAssignment.FullSearchAbove, string.Join(", ", fractions));
        Assert.True(fractions[6] < 0.2 && fractions[7] < 0.2, string.Join(", ", fractions));
    }
}

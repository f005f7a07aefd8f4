using System.Diagnostics;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// k-means with the semantics of faiss <c>Clustering.train</c> + <c>IndexFlatL2</c> as used by the published
/// <c>run_kmeans</c> (L2, not spherical, one run): optional seeded subsampling, initial centroids = the first k
/// points of faiss's seeded permutation (<c>seed + 1</c>), then per iteration: assign every point to its nearest
/// centroid (objective = sum of those squared distances, before the update), recompute the centroids as means
/// (sums accumulated in float64, see <see cref="KMeansPartial"/>) and re-seed empty clusters (<see cref="EmptyClusterSplitter"/>). Finally every point (not just the training
/// subset) is assigned to its nearest final centroid. All tensor work stays on the input's device.
/// </summary>
public static class KMeans
{
    /// <summary>Clusters the rows of <paramref name="x"/> (finite float32 [N, d], any device) into <paramref name="k"/> clusters.</summary>
    /// <exception cref="ArgumentException">x is not a finite float32 matrix, or k is not in 1..N.</exception>
    public static KMeansResult Fit(Tensor x, int k, KMeansOptions? options = null)
    {
        var o = options ?? new KMeansOptions();
        FeatureChecks.RequireFiniteMatrix(x, nameof(x));
        long n = x.shape[0];
        if (k < 1 || k > n) throw new ArgumentException($"k = {k} must be in 1..{n} (the number of points).", nameof(k));
        if (o.Iterations < 1) throw new ArgumentException($"iterations = {o.Iterations} must be at least 1.", nameof(options));

        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var train = Subsample(x, k, o);
        long nx = train.shape[0];
        var trainNorms = ChunkedSearch.SquaredNorms(train);
        var trainAugmented = ChunkedSearch.Augment(train);                  // one extra [nx, d+1] copy, reused

        var perm = FaissRandom.RandPerm((int)nx, o.Seed + 1);
        var centroids = train.index_select(0, tensor(perm.AsSpan(0, k).ToArray().Select(i => (long)i).ToArray(), device: x.device)).contiguous();

        using var bounded = o.UseBounds ? new BoundedAssignment(train, trainAugmented, trainNorms, o.RowsPerChunk) : null;
        var iterations = new List<KMeansIteration>();
        if (nx == k)
            iterations.Add(new KMeansIteration(0, 0, 0, clock.Elapsed));      // faiss: copy the points, one fake iteration
        else
            for (int it = 0; it < o.Iterations; it++)
            {
                using var iterScope = NewDisposeScope();
                var (dis, assign) = bounded?.Assign(centroids)
                                    ?? ChunkedSearch.NearestAugmented(trainAugmented, trainNorms, centroids, o.RowsPerChunk);
                // The same reduce as DistributedKMeans with one range: float64 sums, then faiss's splitting.
                using var partial = KMeansPartial.Of(train, dis, assign, k);
                double objective = partial.Objective;
                int splits = partial.UpdateCentroids(centroids);

                var stats = new KMeansIteration(it, objective, splits, clock.Elapsed);
                iterations.Add(stats);
                o.Progress?.Invoke(stats);
            }
        var trainTime = clock.Elapsed;

        var (finalDis, finalAssign) = nx == n
            ? bounded?.Assign(centroids) ?? ChunkedSearch.NearestAugmented(trainAugmented, trainNorms, centroids, o.RowsPerChunk)
            : ChunkedSearch.Nearest(x, centroids, null, o.RowsPerChunk);
        double assignmentObjective = finalDis.sum(ScalarType.Float64).item<double>();
        var imagesLists = ClusterLists.FromAssignments(finalAssign, k);
        var assignTime = clock.Elapsed - trainTime;

        return new KMeansResult
        {
            Assignments = finalAssign.MoveToOuterDisposeScope(),
            Centroids = centroids.MoveToOuterDisposeScope(),
            Objectives = iterations.Select(s => s.Objective).ToList(),
            Iterations = iterations,
            AssignmentObjective = assignmentObjective,
            ImagesLists = imagesLists,
            TrainTime = trainTime,
            AssignTime = assignTime,
        };
    }

    /// <summary>faiss's training-set handling: a seeded random subset above k × max points, a warning below k × min.</summary>
    static Tensor Subsample(Tensor x, int k, KMeansOptions o)
    {
        long n = x.shape[0];
        if (n > k * o.MaxPointsPerCentroid)
        {
            long keep = k * o.MaxPointsPerCentroid;
            var perm = FaissRandom.RandPerm((int)n, o.Seed);
            var rows = perm.AsSpan(0, (int)keep).ToArray().Select(i => (long)i).ToArray();
            return x.index_select(0, tensor(rows, device: x.device));
        }
        if (n < k * o.MinPointsPerCentroid)
            o.Warning?.Invoke($"clustering {n} points to {k} centroids: please provide at least {k * o.MinPointsPerCentroid} training points");
        return x.alias();
    }
}

using System.Diagnostics;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// <see cref="KMeans.Fit"/> over points split into row ranges, the way DeepCluster-v2 distributes k-means: each
/// iteration the centroids go out to every range, each range answers with its <see cref="KMeansPartial"/> (sums,
/// counts, objective), and the partials are reduced centrally, where the new centroids are computed and faiss's
/// empty-cluster splitting is applied. Same initialisation (the first k points of faiss's permutation seeded
/// <c>seed + 1</c>), so for the same seed it gives the same assignments as the single-node <see cref="KMeans.Fit"/>.
/// </summary>
/// <remarks>
/// Float order: the partial sums are float64 and added range by range, so the centroids do not depend on the split
/// (up to float64 rounding, far below float32's); the single-node <see cref="KMeans.Fit"/> sums in float32, so its
/// centroids differ from these by float32 summation error (~1e-7 relative), which moves objectives by about as much
/// and can only change the assignment of a point equidistant from two centroids to that precision. Distances come
/// from chunked matrix products whose blocking depends on the range, another ulp-level difference.
/// Subsampling (more than k × <see cref="KMeansOptions.MaxPointsPerCentroid"/> points) is not distributed.
/// </remarks>
public static class DistributedKMeans
{
    /// <summary>Clusters the union of <paramref name="ranges"/> (contiguous, in order, covering rows 0..N-1) into <paramref name="k"/> clusters.</summary>
    /// <exception cref="ArgumentException">The ranges do not tile 0..N-1, k is not in 1..N, or N needs subsampling.</exception>
    public static KMeansResult Fit(IReadOnlyList<KMeansRange> ranges, int k, KMeansOptions? options = null)
    {
        var o = options ?? new KMeansOptions();
        if (ranges.Count == 0) throw new ArgumentException("no ranges to cluster.", nameof(ranges));
        long n = 0;
        foreach (var r in ranges)
        {
            if (r.Start != n) throw new ArgumentException($"ranges must tile the rows in order: a range starts at {r.Start}, expected {n}.", nameof(ranges));
            n += r.Count;
        }
        long d = ranges[0].Points.shape[1];
        if (k < 1 || k > n) throw new ArgumentException($"k = {k} must be in 1..{n} (the number of points).", nameof(k));
        if (o.Iterations < 1) throw new ArgumentException($"iterations = {o.Iterations} must be at least 1.", nameof(options));
        if (n > k * o.MaxPointsPerCentroid)
            throw new ArgumentException($"{n} points for {k} centroids would be subsampled to {k * o.MaxPointsPerCentroid}: not supported by the distributed k-means.", nameof(options));
        if (n < k * o.MinPointsPerCentroid)
            o.Warning?.Invoke($"clustering {n} points to {k} centroids: please provide at least {k * o.MinPointsPerCentroid} training points");

        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var device = ranges[0].Points.device;
        var centroids = InitialCentroids(ranges, k, d, o.Seed, device);

        var iterations = new List<KMeansIteration>();
        if (n == k)
            iterations.Add(new KMeansIteration(0, 0, 0, clock.Elapsed));      // faiss: copy the points, one fake iteration
        else
            for (int it = 0; it < o.Iterations; it++)
            {
                var parts = ranges.Select(r => r.Step(centroids)).ToList();   // map: centroids out, partials back
                using var total = KMeansPartial.Merge(parts);                 // reduce
                parts.ForEach(p => p.Dispose());
                int splits = total.UpdateCentroids(centroids);
                var stats = new KMeansIteration(it, total.Objective, splits, clock.Elapsed);
                iterations.Add(stats);
                o.Progress?.Invoke(stats);
            }
        var trainTime = clock.Elapsed;

        var finalAssign = empty(n, ScalarType.Int64, device);
        double assignmentObjective = 0;
        foreach (var r in ranges)
        {
            using var inner = NewDisposeScope();
            var (dis, idx) = r.Assign(centroids);
            assignmentObjective += dis.sum(ScalarType.Float64).item<double>();
            finalAssign.narrow(0, r.Start, r.Count).copy_(idx);
        }
        var imagesLists = ClusterLists.FromAssignments(finalAssign, k);

        return new KMeansResult
        {
            Assignments = finalAssign.MoveToOuterDisposeScope(),
            Centroids = centroids.MoveToOuterDisposeScope(),
            Objectives = iterations.Select(s => s.Objective).ToList(),
            Iterations = iterations,
            AssignmentObjective = assignmentObjective,
            ImagesLists = imagesLists,
            TrainTime = trainTime,
            AssignTime = clock.Elapsed - trainTime,
        };
    }

    /// <summary>faiss's initialisation: rows perm[0..k) of <c>rand_perm(N, seed + 1)</c>, gathered from the ranges that hold them.</summary>
    public static Tensor InitialCentroids(IReadOnlyList<KMeansRange> ranges, int k, long d, long seed, Device device)
    {
        long n = ranges.Sum(r => r.Count);
        var perm = FaissRandom.RandPerm(checked((int)n), seed + 1);
        var rows = perm.AsSpan(0, k).ToArray().Select(i => (long)i).ToArray();
        var centroids = empty(k, d, ScalarType.Float32, device);
        foreach (var r in ranges)
        {
            using var inner = NewDisposeScope();
            var (positions, values) = r.Gather(rows);
            centroids.index_copy_(0, tensor(positions, ScalarType.Int64, device), values.to(device));
        }
        return centroids;
    }
}

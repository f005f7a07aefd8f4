using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// What one row range contributes to a Lloyd iteration of <see cref="DistributedKMeans"/> (DeepCluster-v2's
/// per-rank sums and counts): for each cluster the sum (float64) and number of the range's points assigned to it,
/// and the sum of their squared distances to the centroids they were assigned to. Partials of disjoint ranges merge
/// by addition; the merged partial gives the same centroids as a single-node pass over all points.
/// </summary>
public sealed class KMeansPartial : IDisposable
{
    const long RowsPerSumChunk = 16384;

    /// <summary>Per-cluster sums of the assigned points, float64 [k, d] (on the device of the points they sum).</summary>
    public Tensor Sums { get; }

    /// <summary>Points assigned to each cluster, length k.</summary>
    public long[] Counts { get; }

    /// <summary>Sum of the squared distances of the points to their assigned centroids (faiss's objective).</summary>
    public double Objective { get; private set; }

    /// <summary>Number of points the partial covers.</summary>
    public long Points { get; private set; }

    /// <summary>A partial with the given values (takes ownership of <paramref name="sums"/>).</summary>
    public KMeansPartial(Tensor sums, long[] counts, double objective, long points)
    {
        if (sums.dim() != 2 || sums.shape[0] != counts.Length)
            throw new ArgumentException($"sums [{string.Join(", ", sums.shape)}] do not match {counts.Length} counts.", nameof(sums));
        Sums = sums; Counts = counts; Objective = objective; Points = points;
    }

    /// <summary>
    /// The partial of <paramref name="points"/> [n, d] assigned to <paramref name="assign"/> (int64 [n]) at squared
    /// distances <paramref name="distances"/> (float32 [n]): sums accumulated in float64 by chunks of rows (so the
    /// centroids do not depend on how the rows are split), counts, and the objective (float64 sum).
    /// </summary>
    public static KMeansPartial Of(Tensor points, Tensor distances, Tensor assign, int k)
    {
        using var scope = NewDisposeScope();
        long n = points.shape[0];
        double objective = distances.sum(ScalarType.Float64).item<double>();
        var sums = zeros(k, points.shape[1], ScalarType.Float64, points.device);
        for (long i0 = 0; i0 < n; i0 += RowsPerSumChunk)
        {
            using var inner = NewDisposeScope();
            long b = Math.Min(RowsPerSumChunk, n - i0);
            sums.index_add_(0, assign.narrow(0, i0, b), points.narrow(0, i0, b).to_type(ScalarType.Float64), 1);
        }
        var counts = assign.bincount(null, k).cpu().data<long>().ToArray();
        return new KMeansPartial(sums.DetachFromDisposeScope(), counts, objective, n);   // owned by the partial
    }

    /// <summary>An empty partial for <paramref name="k"/> clusters of dimension <paramref name="d"/>.</summary>
    public static KMeansPartial Empty(int k, long d) => new(zeros(k, d, ScalarType.Float64).DetachFromDisposeScope(), new long[k], 0, 0);

    /// <summary>Adds another range's partial to this one.</summary>
    public void Add(KMeansPartial other)
    {
        if (other.Counts.Length != Counts.Length || other.Sums.shape[1] != Sums.shape[1])
            throw new ArgumentException($"partial for [{string.Join(", ", other.Sums.shape)}] added to [{string.Join(", ", Sums.shape)}].", nameof(other));
        if (other.Sums.device_type == Sums.device_type && other.Sums.device_index == Sums.device_index) Sums.add_(other.Sums);
        else using (var s = other.Sums.to(Sums.device)) Sums.add_(s);
        for (int i = 0; i < Counts.Length; i++) Counts[i] += other.Counts[i];
        Objective += other.Objective;
        Points += other.Points;
    }

    /// <summary>The sum of <paramref name="parts"/>, in range order, in a new partial.</summary>
    public static KMeansPartial Merge(IEnumerable<KMeansPartial> parts)
    {
        KMeansPartial? total = null;
        foreach (var p in parts)
        {
            total ??= Empty(p.Counts.Length, p.Sums.shape[1]);
            total.Add(p);
        }
        return total ?? throw new ArgumentException("no partials to merge.", nameof(parts));
    }

    /// <summary>
    /// The reduce step, done once centrally: new centroids = sums / counts (empty clusters get 0, as in faiss), written
    /// into <paramref name="centroids"/> (float32 [k, d], any device), then faiss's empty-cluster splitting
    /// (<see cref="EmptyClusterSplitter"/>) over the merged counts. Returns the number of splits.
    /// </summary>
    public int UpdateCentroids(Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var counts = tensor(Counts, ScalarType.Int64).to_type(ScalarType.Float64);
        var means = Sums / counts.clamp_min(1).unsqueeze(1);
        centroids.copy_(means.to_type(ScalarType.Float32).to(centroids.device));
        var sizes = Counts.Select(c => (float)c).ToArray();
        return EmptyClusterSplitter.Split(sizes, centroids, Points);
    }

    /// <summary>Frees the sums.</summary>
    public void Dispose() => Sums.Dispose();
}

using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// One row range of the (preprocessed) points as a node holds it for <see cref="DistributedKMeans"/>: it receives the
/// centroids of each iteration and answers with a <see cref="KMeansPartial"/>, keeping between iterations only its
/// own rows (and, with bounds, their <see cref="BoundedAssignment"/> state).
/// </summary>
public sealed class KMeansRange : IDisposable
{
    readonly Tensor norms, augmented;
    readonly BoundedAssignment? bounded;
    readonly long rowsPerChunk;

    /// <summary>Index of the range's first row in the whole matrix.</summary>
    public long Start { get; }

    /// <summary>The range's points, float32 [n, d] (not owned: the caller frees them after this range).</summary>
    public Tensor Points { get; }

    /// <summary>Number of rows.</summary>
    public long Count => Points.shape[0];

    /// <summary>A range of finite float32 points [n, d] starting at global row <paramref name="start"/>.</summary>
    /// <param name="points">The rows (stay on their device; the centroids are moved there).</param>
    /// <param name="start">Global index of the first row.</param>
    /// <param name="useBounds">Skip points whose centroid provably did not change (see <see cref="KMeansOptions.UseBounds"/>).</param>
    /// <param name="rowsPerChunk">Rows per distance product; 0 chooses automatically.</param>
    public KMeansRange(Tensor points, long start, bool useBounds = true, long rowsPerChunk = 0)
    {
        FeatureChecks.RequireFiniteMatrix(points, nameof(points));
        Points = points; Start = start; this.rowsPerChunk = rowsPerChunk;
        norms = ChunkedSearch.SquaredNorms(points);
        augmented = ChunkedSearch.Augment(points);
        bounded = useBounds ? new BoundedAssignment(points, augmented, norms, rowsPerChunk) : null;
    }

    /// <summary>Distances (float32 [n]) to and indices (int64 [n]) of each point's nearest centroid.</summary>
    public (Tensor Distances, Tensor Indices) Assign(Tensor centroids)
    {
        if (centroids.device_type == Points.device_type && centroids.device_index == Points.device_index)
            return bounded?.Assign(centroids) ?? ChunkedSearch.NearestAugmented(augmented, norms, centroids, rowsPerChunk);
        using var c = centroids.to(Points.device);
        return bounded?.Assign(c) ?? ChunkedSearch.NearestAugmented(augmented, norms, c, rowsPerChunk);
    }

    /// <summary>One iteration's map step: assign every point, then sum (float64) and count the points per cluster.</summary>
    public KMeansPartial Step(Tensor centroids)
    {
        using var scope = NewDisposeScope();
        var (dis, assign) = Assign(centroids);
        return KMeansPartial.Of(Points, dis, assign, (int)centroids.shape[0]);
    }

    /// <summary>
    /// The rows of this range among the global row indices <paramref name="rows"/>: their positions in
    /// <paramref name="rows"/> and the rows themselves (float32 [m, d]), e.g. for the initial centroids.
    /// </summary>
    public (long[] Positions, Tensor Rows) Gather(IReadOnlyList<long> rows)
    {
        var positions = new List<long>();
        var local = new List<long>();
        for (int i = 0; i < rows.Count; i++)
            if (rows[i] >= Start && rows[i] < Start + Count) { positions.Add(i); local.Add(rows[i] - Start); }
        using var idx = tensor(local.ToArray(), ScalarType.Int64, Points.device);
        return (positions.ToArray(), Points.index_select(0, idx));
    }

    /// <summary>Frees the norms, the augmented copy and the bounds (not the points).</summary>
    public void Dispose()
    {
        bounded?.Dispose();
        augmented.Dispose();
        norms.Dispose();
    }
}

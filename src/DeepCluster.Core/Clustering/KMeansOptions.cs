namespace DeepCluster.Core.Clustering;

/// <summary>Settings of <see cref="KMeans.Fit"/>; the defaults are those of the published <c>run_kmeans</c>.</summary>
public sealed record KMeansOptions
{
    /// <summary>Number of Lloyd iterations (published: 20).</summary>
    public int Iterations { get; init; } = 20;

    /// <summary>Seed of the initial-centroid permutation and of the subsampling (faiss <c>Clustering.seed</c>).</summary>
    public long Seed { get; init; } = 1234;

    /// <summary>Above k × this many points, train on a seeded random subset of that size (published: 10 000 000).</summary>
    public long MaxPointsPerCentroid { get; init; } = 10_000_000;

    /// <summary>Below k × this many points, warn through <see cref="Warning"/> (faiss: 39).</summary>
    public long MinPointsPerCentroid { get; init; } = 39;

    /// <summary>Query rows per distance matrix product; 0 chooses automatically (see <see cref="ChunkedSearch"/>).</summary>
    public long RowsPerChunk { get; init; }

    /// <summary>
    /// Skip the points whose nearest centroid provably did not change (<see cref="BoundedAssignment"/>); the result is
    /// the same as a full search. Off: search every point every iteration, as faiss does.
    /// </summary>
    public bool UseBounds { get; init; } = true;

    /// <summary>Called after every iteration (e.g. to show progress).</summary>
    public Action<KMeansIteration>? Progress { get; init; }

    /// <summary>Receives warnings such as "too few points per centroid".</summary>
    public Action<string>? Warning { get; init; }
}

/// <summary>Statistics of one k-means iteration, as faiss's <c>ClusteringIterationStats</c>.</summary>
/// <param name="Iteration">0-based iteration number.</param>
/// <param name="Objective">Sum of squared distances of the points to the centroids they were assigned to
/// (centroids before this iteration's update).</param>
/// <param name="Splits">Empty clusters re-seeded in this iteration.</param>
/// <param name="Elapsed">Time since the iterations started.</param>
public sealed record KMeansIteration(int Iteration, double Objective, int Splits, TimeSpan Elapsed);

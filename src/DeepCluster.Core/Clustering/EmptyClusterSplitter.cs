using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// faiss <c>split_clusters</c>: each empty centroid takes a copy of a cluster chosen with probability
/// (size - 1) / (n - k), by scanning the clusters cyclically with a generator seeded 1234 at every call;
/// the two copies are pushed apart by a symmetric relative perturbation of <see cref="Eps"/>
/// (even coordinates × (1 + eps) for the new one and × (1 - eps) for the old one, odd ones the other way)
/// and the old cluster's size is shared between them.
/// </summary>
public static class EmptyClusterSplitter
{
    /// <summary>Relative perturbation, 1/1024 as in faiss.</summary>
    public const float Eps = 1f / 1024f;

    /// <summary>
    /// Fixes the empty clusters in place. <paramref name="sizes"/> holds the cluster sizes (updated as faiss does),
    /// <paramref name="centroids"/> [k, d] is changed row by row. Returns the number of splits.
    /// </summary>
    /// <param name="sizes">Points per centroid (faiss's <c>hassign</c>), length k.</param>
    /// <param name="centroids">Centroids [k, d] on any device.</param>
    /// <param name="n">Number of training points.</param>
    public static int Split(float[] sizes, Tensor centroids, long n)
    {
        int k = sizes.Length;
        if (Array.IndexOf(sizes, 0f) < 0) return 0;
        if (n <= k) throw new ArgumentException($"cannot split clusters with n = {n} <= k = {k}.", nameof(n));
        long d = centroids.shape[1];
        using var scope = NewDisposeScope();
        var even = arange(d, ScalarType.Int64, centroids.device).remainder(2).eq(0);
        var grow = where(even, tensor(1 + Eps, device: centroids.device), tensor(1 - Eps, device: centroids.device));
        var shrink = where(even, tensor(1 - Eps, device: centroids.device), tensor(1 + Eps, device: centroids.device));

        var rng = new FaissRandom(1234);
        int nsplit = 0;
        for (int ci = 0; ci < k; ci++)
        {
            if (sizes[ci] != 0) continue;
            int cj = 0;
            for (; ; cj = (cj + 1) % k)
            {
                double p = (sizes[cj] - 1.0) / (float)(n - k);
                float r = rng.RandFloat();
                if (r < p) break;
            }
            using (NewDisposeScope())
            {
                var source = centroids[cj];
                centroids[ci].copy_(source * grow);
                source.mul_(shrink);
            }
            sizes[ci] = sizes[cj] / 2;
            sizes[cj] -= sizes[ci];
            nsplit++;
        }
        return nsplit;
    }
}

using System.Diagnostics;
using DeepCluster.Core.IO;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>What one clustering of the features gave.</summary>
/// <param name="Assignments">Cluster of every point.</param>
/// <param name="ImagesLists">The published <c>images_lists</c>: for each cluster the ascending indices of its points.</param>
/// <param name="Loss">Final k-means objective (0 for PIC).</param>
/// <param name="Iterations">The k-means iterations (empty for PIC).</param>
/// <param name="AssignmentObjective">Objective of the final assignment of every point (k-means only).</param>
public sealed record ClusteringOutcome(long[] Assignments, List<List<int>> ImagesLists, double Loss,
                                       IReadOnlyList<KMeansIteration> Iterations, double? AssignmentObjective,
                                       double PreprocessSeconds, double ClusteringSeconds)
{
    public double Seconds => PreprocessSeconds + ClusteringSeconds;
    /// <summary>The k-means objective of each iteration.</summary>
    public double[] Objectives => Iterations.Select(i => i.Objective).ToArray();
    /// <summary>Clusters that hold at least one point.</summary>
    public int NonEmpty => ImagesLists.Count(l => l.Count > 0);
}

/// <summary>
/// The published <c>Kmeans.cluster</c> / <c>PIC.cluster</c>: PCA-whitening to <c>pca</c> dims + L2 normalisation
/// (<see cref="FeaturePreprocessing"/>), then k-means or PIC, on the given device.
/// </summary>
public static class ClusteringRunner
{
    /// <summary>
    /// How many lists <c>images_lists</c> has for these assignments: k for k-means (empty clusters included, as the
    /// published log), the number of clusters found for PIC.
    /// </summary>
    public static int ListCount(string method, int k, ReadOnlySpan<long> assignments)
    {
        long max = -1;
        foreach (var a in assignments) max = Math.Max(max, a);
        return method == "PIC" ? (int)(max + 1) : Math.Max(k, (int)(max + 1));
    }

    /// <summary>Progress callback: iterations done, iterations in all, and the k-means iteration (null for PIC).</summary>
    public delegate void Progress(int iteration, int total, KMeansIteration? step);

    /// <summary>
    /// Clusters the features of a float32/float64 [N, D] <c>.npy</c> file without loading it: the PCA is fitted from
    /// statistics gathered chunk by chunk and applied chunk by chunk (<see cref="StreamingPreprocessing"/>), so memory
    /// holds the N × <paramref name="pca"/> preprocessed points, not the N × D matrix.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a float matrix, is truncated or holds NaN/Inf; names it.</exception>
    /// <exception cref="ArgumentException">k is not in 1..N, the method is unknown, or the features have no variance.</exception>
    public static ClusteringOutcome Run(string featuresPath, string method, int k, int pca, int niter, long seed, Device device,
                                        Progress? progress = null, Action<string>? warning = null)
    {
        var file = new NpyRowChunks(featuresPath);
        CheckArguments(method, k, file.Rows);
        var clock = Stopwatch.StartNew();
        using var pre = StreamingPreprocessing.Preprocess(featuresPath, (int)Math.Min(pca, file.Cols));
        var features = pre.Features.to(device);                          // the same tensor when already there
        try { return Cluster(features, method, k, niter, seed, clock.Elapsed.TotalSeconds, progress, warning); }
        finally { if (!ReferenceEquals(features, pre.Features)) features.Dispose(); }
    }

    /// <summary>Clusters <paramref name="features"/> (any float dtype, any device; moved to <paramref name="device"/>).</summary>
    /// <exception cref="ArgumentException">features is not a matrix, k is not in 1..N, or the method is unknown.</exception>
    public static ClusteringOutcome Run(Tensor features, string method, int k, int pca, int niter, long seed, Device device,
                                        Progress? progress = null, Action<string>? warning = null)
    {
        if (features.dim() != 2) throw new ArgumentException($"features must be a matrix, got {features.dim()} dimensions.");
        CheckArguments(method, k, features.shape[0]);
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var x = features.to(ScalarType.Float32).to(device);
        using var pre = FeaturePreprocessing.Preprocess(x, Math.Min(pca, (int)x.shape[1]));
        return Cluster(pre.Features, method, k, niter, seed, clock.Elapsed.TotalSeconds, progress, warning);
    }

    static void CheckArguments(string method, int k, long n)
    {
        if (k <= 0 || k > n)
            throw new ArgumentException($"k = {k}: must be between 1 and the number of points ({n}).");
        if (method is not ("Kmeans" or "PIC")) throw new ArgumentException($"--clustering {method}: choose Kmeans or PIC.");
    }

    /// <summary>k-means or PIC on preprocessed features (float32 [N, P], on the device to use).</summary>
    static ClusteringOutcome Cluster(Tensor pre, string method, int k, int niter, long seed, double preprocessSeconds,
                                     Progress? progress, Action<string>? warning)
    {
        var clock = Stopwatch.StartNew();
        switch (method)
        {
            case "Kmeans":
            {
                using var r = KMeans.Fit(pre, k, new KMeansOptions
                {
                    Iterations = niter,
                    Seed = seed,
                    Progress = it => progress?.Invoke(it.Iteration + 1, niter, it),
                    Warning = warning,
                });
                var assignments = r.Assignments.cpu().data<long>().ToArray();
                return new ClusteringOutcome(assignments, r.ImagesLists, r.Loss, r.Iterations, r.AssignmentObjective,
                                             preprocessSeconds, clock.Elapsed.TotalSeconds);
            }
            case "PIC":
            {
                // PIC is deterministic given the features (exact kNN graph, fixed start vector): no seed.
                var r = PowerIterationClustering.Fit(pre);
                progress?.Invoke(1, 1, null);
                return new ClusteringOutcome(r.Assignments, r.ImagesLists, 0, [], null,
                                             preprocessSeconds, clock.Elapsed.TotalSeconds);
            }
            default:
                throw new ArgumentException($"--clustering {method}: choose Kmeans or PIC.");
        }
    }
}

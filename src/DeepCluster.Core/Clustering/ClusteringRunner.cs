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

    public static ClusteringOutcome Run(string featuresPath, string method, int k, int pca, int niter, long seed, Device device,
                                        Progress? progress = null, Action<string>? warning = null)
    {
        using var x = NpyFile.ReadTensor(featuresPath);
        return Run(x, method, k, pca, niter, seed, device, progress, warning);
    }

    /// <summary>Clusters <paramref name="features"/> (any float dtype, any device; moved to <paramref name="device"/>).</summary>
    /// <exception cref="ArgumentException">features is not a matrix, k is not in 1..N, or the method is unknown.</exception>
    public static ClusteringOutcome Run(Tensor features, string method, int k, int pca, int niter, long seed, Device device,
                                        Progress? progress = null, Action<string>? warning = null)
    {
        if (features.dim() != 2) throw new ArgumentException($"features must be a matrix, got {features.dim()} dimensions.");
        if (k <= 0 || k > features.shape[0])
            throw new ArgumentException($"k = {k}: must be between 1 and the number of points ({features.shape[0]}).");
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var x = features.to(ScalarType.Float32).to(device);
        using var pre = FeaturePreprocessing.Preprocess(x, Math.Min(pca, (int)x.shape[1]));
        var preprocessSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        switch (method)
        {
            case "Kmeans":
            {
                using var r = KMeans.Fit(pre.Features, k, new KMeansOptions
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
                var r = PowerIterationClustering.Fit(pre.Features);
                progress?.Invoke(1, 1, null);
                return new ClusteringOutcome(r.Assignments, r.ImagesLists, 0, [], null,
                                             preprocessSeconds, clock.Elapsed.TotalSeconds);
            }
            default:
                throw new ArgumentException($"--clustering {method}: choose Kmeans or PIC.");
        }
    }
}

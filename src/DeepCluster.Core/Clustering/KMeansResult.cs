using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>The outcome of <see cref="KMeans.Fit"/>.</summary>
public sealed class KMeansResult : IDisposable
{
    /// <summary>Index of the nearest final centroid of every point, int64 [N], on the input's device.</summary>
    public required Tensor Assignments { get; init; }

    /// <summary>Final centroids, float32 [k, d].</summary>
    public required Tensor Centroids { get; init; }

    /// <summary>Objective of every iteration (faiss <c>clus.obj</c>); the published loss is the last one.</summary>
    public required IReadOnlyList<double> Objectives { get; init; }

    /// <summary>Per-iteration statistics (objective, splits, time).</summary>
    public required IReadOnlyList<KMeansIteration> Iterations { get; init; }

    /// <summary>Sum of squared distances of all points to their final nearest centroid.</summary>
    public required double AssignmentObjective { get; init; }

    /// <summary>For each of the k clusters, the indices of its points in ascending order (published <c>images_lists</c>).</summary>
    public required List<List<int>> ImagesLists { get; init; }

    /// <summary>Time spent in the iterations (including initialisation and subsampling).</summary>
    public required TimeSpan TrainTime { get; init; }

    /// <summary>Time spent on the final assignment of all points.</summary>
    public required TimeSpan AssignTime { get; init; }

    /// <summary>The last iteration's objective, the loss the published <c>Kmeans.cluster</c> returns.</summary>
    public double Loss => Objectives[^1];

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Assignments.Dispose();
        Centroids.Dispose();
    }
}

using DeepCluster.Core.Clustering;
using static TorchSharp.torch;

namespace DeepCluster.Core.Evaluation.Retrieval;

/// <summary>
/// R-MAC (Tolias et al.), as the published <c>eval_retrieval.py</c>'s <c>rmac</c> computes it from a C × H × W feature
/// map: per region of <see cref="RmacRegions"/>, the max over the region → L2; then PCA-whitening → L2; the sum over
/// the regions → L2. L2 normalisation divides by max(‖x‖, 1e-12), so an all-zero region gives zeros instead of the
/// published division's NaN.
/// </summary>
public static class Rmac
{
    /// <summary>
    /// The L2-normalised max-pooled descriptor of each region: [R, C] (the rows PCA is learned from). Regions of side 0
    /// (feature maps under 2 cells on a side at levels ≥ 2, where the published code would fail) are left out.
    /// </summary>
    /// <param name="features">The feature map, [C, H, W] or [1, C, H, W].</param>
    public static Tensor RegionDescriptors(Tensor features, int levels)
    {
        using var scope = NewDisposeScope();
        var map = features.dim() == 4 ? features[0] : features;
        int h = (int)map.shape[1], w = (int)map.shape[2];
        var rows = new List<Tensor>();
        foreach (var r in RmacRegions.Coordinates(h, w, levels))
        {
            if (r.Width < 1 || r.Height < 1) continue;
            rows.Add(map.narrow(1, r.Y, r.Height).narrow(2, r.X, r.Width).amax([1, 2]));
        }
        return Normalize(stack(rows)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The image descriptor from its region descriptors (<see cref="RegionDescriptors"/>): each whitened by
    /// <paramref name="pca"/> and L2-normalised (skipped when <paramref name="pca"/> is null), summed, L2-normalised.
    /// </summary>
    public static Tensor Aggregate(Tensor regions, PcaMatrix? pca)
    {
        using var scope = NewDisposeScope();
        var x = pca is null ? regions : Normalize(pca.Apply(regions));
        return Normalize(x.sum(0, keepdim: true))[0].MoveToOuterDisposeScope();
    }

    /// <summary>Rows divided by their L2 norm (at least 1e-12).</summary>
    public static Tensor Normalize(Tensor rows) => nn.functional.normalize(rows, p: 2, dim: 1);
}

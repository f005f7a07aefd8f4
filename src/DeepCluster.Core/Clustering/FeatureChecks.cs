using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>Argument checks shared by the clustering entry points.</summary>
public static class FeatureChecks
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="x"/> is a float32 2-D tensor
    /// with at least one row and column and only finite values.</summary>
    public static void RequireFiniteMatrix(Tensor x, string name)
    {
        if (x.dim() != 2)
            throw new ArgumentException($"{name}: expected a 2-D [N, dim] matrix, got {x.dim()}-D.", name);
        if (x.dtype != ScalarType.Float32)
            throw new ArgumentException($"{name}: expected float32, got {x.dtype}.", name);
        if (x.shape[0] == 0 || x.shape[1] == 0)
            throw new ArgumentException($"{name}: empty matrix [{x.shape[0]}, {x.shape[1]}].", name);
        // NaN and Inf propagate into the column sums, so one cheap reduction clears finite data;
        // only when a sum is not finite (possibly an overflow of finite values) is every entry checked.
        using var scope = NewDisposeScope();
        if (isfinite(x.sum(new long[] { 0 })).all().item<bool>()) return;
        if (!isfinite(x).all().item<bool>())
            throw new ArgumentException($"{name}: input contains NaN or Inf values.", name);
    }
}

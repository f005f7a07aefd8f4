using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>Features after <see cref="FeaturePreprocessing.Preprocess"/>, with the PCA that produced them.</summary>
/// <param name="Features">float32 [N, pca]: PCA-reduced, whitened, L2-normalised rows.</param>
/// <param name="Pca">The trained PCA (apply it to other data, then L2-normalise, to get comparable features).</param>
public sealed record PreprocessedFeatures(Tensor Features, PcaMatrix Pca) : IDisposable
{
    /// <summary>Frees the features and the PCA.</summary>
    public void Dispose() { Features.Dispose(); Pca.Dispose(); }
}

/// <summary>The published <c>preprocess_features</c>: PCA-whitening to <c>pca</c> dimensions, then L2 normalisation.</summary>
public static class FeaturePreprocessing
{
    /// <summary>Rows whose norm is below this after PCA (points at the mean) are left as zero instead of dividing by ~0.</summary>
    public const double NormEpsilon = 1e-12;

    /// <summary>
    /// Trains <c>PCAMatrix(dim, pca, eigen_power=-0.5)</c> on all rows of <paramref name="x"/>, applies it and
    /// L2-normalises each row. Never returns NaN: see <see cref="PcaMatrix"/> for rank-deficient data and
    /// <see cref="NormEpsilon"/> for rows that project to zero.
    /// </summary>
    public static PreprocessedFeatures Preprocess(Tensor x, int pca = 256)
    {
        var mat = PcaMatrix.Train(x, pca, eigenPower: -0.5);
        using var scope = NewDisposeScope();
        var y = mat.Apply(x);
        return new PreprocessedFeatures(L2Normalize(y).MoveToOuterDisposeScope(), mat);
    }

    /// <summary>Divides each row by its L2 norm (rows with norm below <see cref="NormEpsilon"/> stay as they are).</summary>
    public static Tensor L2Normalize(Tensor y)
    {
        using var scope = NewDisposeScope();
        var norms = y.norm(1, keepdim: true).clamp_min(NormEpsilon);
        return (y / norms).MoveToOuterDisposeScope();
    }
}

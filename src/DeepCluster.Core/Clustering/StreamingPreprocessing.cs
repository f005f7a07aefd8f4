using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// <see cref="FeaturePreprocessing.Preprocess"/> on a features <c>.npy</c> file without loading it: one pass over the
/// rows in chunks gathers <see cref="PcaStatistics"/>, a second pass applies the fitted PCA and the L2 normalisation
/// chunk by chunk into the N×P result. Memory: O(N×P + chunk×D + D×D) instead of N×D.
/// The two passes work on row ranges, so the same steps run one range per node (statistics out, merged PCA in).
/// </summary>
public static class StreamingPreprocessing
{
    /// <summary>PCA-whitens <paramref name="path"/>'s rows to <paramref name="pca"/> dimensions (at most D) and L2-normalises them.</summary>
    /// <exception cref="InvalidDataException">The file is not a float matrix, is truncated, or holds NaN/Inf; names it.</exception>
    /// <exception cref="ArgumentException">Fewer than 2 rows, or zero variance.</exception>
    public static PreprocessedFeatures Preprocess(string path, int pca = 256, int rowsPerChunk = 0)
    {
        var file = new NpyRowChunks(path);
        PcaMatrix mat;
        using (var stats = PcaStatistics.OfFile(file, 0, file.Rows, rowsPerChunk))
            mat = stats.Fit((int)Math.Min(pca, file.Cols));
        try
        {
            return new PreprocessedFeatures(Apply(file, 0, file.Rows, mat, rowsPerChunk), mat);
        }
        catch { mat.Dispose(); throw; }
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of <paramref name="file"/>
    /// projected by <paramref name="pca"/> and L2-normalised: float32 [count, P] on the CPU.
    /// </summary>
    public static Tensor Apply(NpyRowChunks file, long start, long count, PcaMatrix pca, int rowsPerChunk = 0)
    {
        if (file.Cols != pca.InputDim)
            throw new ArgumentException($"{file.Path}: rows of {file.Cols} values, the PCA expects {pca.InputDim}.", nameof(pca));
        var result = empty(count, pca.OutputDim, ScalarType.Float32);
        try
        {
            file.ForEachChunk(start, count, (row, chunk) =>
            {
                using var scope = NewDisposeScope();
                var y = pca.Apply(chunk.to(pca.Matrix.device));
                result.narrow(0, row - start, chunk.shape[0]).copy_(FeaturePreprocessing.L2Normalize(y));
            }, rowsPerChunk);
            return result;
        }
        catch { result.Dispose(); throw; }
    }
}

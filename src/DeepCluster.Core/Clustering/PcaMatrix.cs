using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Clustering;

/// <summary>
/// A trained PCA projection with optional whitening, like faiss <c>PCAMatrix(d_in, d_out, eigen_power)</c>:
/// y = A (x - mean), where the rows of A are the top <c>d_out</c> eigenvectors of the covariance of the
/// training data, each scaled by eigenvalue^eigen_power (-0.5 whitens). The covariance is accumulated in
/// float64 from float32 chunks of centred rows and decomposed in float64; A and the mean are float32.
/// </summary>
/// <remarks>
/// Degenerate data (rank below d_out, e.g. fewer points than dimensions) has eigenvalues at or near zero.
/// faiss would raise them to a negative power (inf/NaN); here every eigenvalue is first raised to at least
/// <see cref="RelativeEigenFloor"/> times the largest one, so such directions get a large but finite scale
/// and carry almost no energy. Data whose covariance is zero throws <see cref="ArgumentException"/>.
/// Each eigenvector's sign is fixed so that its largest-magnitude component is positive.
/// </remarks>
public sealed class PcaMatrix : IDisposable
{
    /// <summary>Smallest eigenvalue used for scaling, relative to the largest one.</summary>
    public const double RelativeEigenFloor = 1e-10;

    const int RowsPerChunk = 16384;

    /// <summary>Mean of the training data, float32 [d_in].</summary>
    public Tensor Mean { get; }

    /// <summary>The projection A, float32 [d_out, d_in], rows already scaled by eigenvalue^power.</summary>
    public Tensor Matrix { get; }

    /// <summary>-A·mean, float32 [d_out]: y = x Aᵀ + Bias.</summary>
    public Tensor Bias { get; }

    /// <summary>The top d_out covariance eigenvalues (descending, before the floor is applied). faiss 1.7 does not
    /// divide its covariance by N, so its eigenvalues are N times these; after L2 normalisation the features agree.</summary>
    public double[] Eigenvalues { get; }

    /// <summary>The exponent applied to the eigenvalues (-0.5 whitens, 0 is plain PCA).</summary>
    public double EigenPower { get; }

    /// <summary>Input dimension.</summary>
    public int InputDim => (int)Matrix.shape[1];

    /// <summary>Output dimension.</summary>
    public int OutputDim => (int)Matrix.shape[0];

    PcaMatrix(Tensor mean, Tensor matrix, double[] eigenvalues, double eigenPower)
    {
        Mean = mean;
        Matrix = matrix;
        Bias = matrix.matmul(mean).neg_();
        Eigenvalues = eigenvalues;
        EigenPower = eigenPower;
    }

    /// <summary>Trains on the rows of <paramref name="x"/> (float32 [N, d_in], any device).</summary>
    /// <exception cref="ArgumentException">x is not a finite float32 matrix with at least 2 rows,
    /// <paramref name="outputDim"/> is not in 1..d_in, or the data has zero variance.</exception>
    public static PcaMatrix Train(Tensor x, int outputDim, double eigenPower = -0.5)
    {
        FeatureChecks.RequireFiniteMatrix(x, nameof(x));
        long n = x.shape[0], dIn = x.shape[1];
        if (n < 2) throw new ArgumentException($"PCA needs at least 2 rows, got {n}.", nameof(x));
        if (outputDim < 1 || outputDim > dIn)
            throw new ArgumentException($"PCA output dimension {outputDim} must be in 1..{dIn} (the input dimension).", nameof(outputDim));

        using var scope = NewDisposeScope();
        var mean = x.sum(new long[] { 0 }).div_(n);                         // float32 cascade sum
        var cov = zeros(dIn, dIn, ScalarType.Float64, x.device);
        for (long i0 = 0; i0 < n; i0 += RowsPerChunk)
        {
            using var inner = NewDisposeScope();
            var xc = x.narrow(0, i0, Math.Min(RowsPerChunk, n - i0)) - mean;
            cov.add_(xc.t().matmul(xc).to_type(ScalarType.Float64));
        }
        cov.div_(n);
        var pca = FromCovariance(mean, cov, outputDim, eigenPower);     // its tensors are in this scope: move them out
        pca.Mean.MoveToOuterDisposeScope();
        pca.Matrix.MoveToOuterDisposeScope();
        pca.Bias.MoveToOuterDisposeScope();
        return pca;
    }

    /// <summary>
    /// The PCA of data with the given mean and covariance (e.g. merged from per-range <see cref="PcaStatistics"/>):
    /// the same eigen-decomposition, sign convention, floor and scaling as <see cref="Train"/>.
    /// </summary>
    /// <param name="mean">Mean of the data, [d_in] (any float dtype; stored as float32).</param>
    /// <param name="covariance">Covariance (divided by N), [d_in, d_in] (decomposed in float64).</param>
    /// <param name="outputDim">Output dimension, 1..d_in.</param>
    /// <param name="eigenPower">Exponent of the eigenvalues (-0.5 whitens).</param>
    /// <param name="relativeEigenFloor">Smallest eigenvalue used for scaling, relative to the largest one
    /// (default <see cref="RelativeEigenFloor"/>; the published <c>eval_retrieval.py</c> PCA uses 1e-5).</param>
    /// <exception cref="ArgumentException">outputDim out of range, or the covariance is zero.</exception>
    public static PcaMatrix FromCovariance(Tensor mean, Tensor covariance, int outputDim, double eigenPower = -0.5,
                                           double relativeEigenFloor = RelativeEigenFloor)
    {
        long dIn = covariance.shape[0];
        if (outputDim < 1 || outputDim > dIn)
            throw new ArgumentException($"PCA output dimension {outputDim} must be in 1..{dIn} (the input dimension).", nameof(outputDim));
        using var scope = NewDisposeScope();
        var cov = covariance.to_type(ScalarType.Float64);
        var mean32 = mean.to_type(ScalarType.Float32).clone();            // never an alias of the caller's tensor
        var (eigAscending, vecAscending) = linalg.eigh(cov);
        var eig = eigAscending.flip(0).narrow(0, 0, outputDim);           // descending
        var vecs = vecAscending.flip(1).narrow(1, 0, outputDim).t();       // [d_out, d_in]
        var maxAbsAt = vecs.abs().argmax(1, keepdim: true);
        vecs = vecs * vecs.gather(1, maxAbsAt).sign();                      // largest component positive

        var eigenvalues = eig.cpu().data<double>().ToArray();
        double top = eigenvalues[0];
        if (!(top > 0)) throw new ArgumentException("PCA: the features have zero variance (all rows identical).", nameof(covariance));
        var scale = eig.clamp_min(top * relativeEigenFloor).pow(eigenPower);
        var matrix = (vecs * scale.unsqueeze(1)).to_type(ScalarType.Float32).contiguous();
        var pca = new PcaMatrix(mean32.MoveToOuterDisposeScope(), matrix.MoveToOuterDisposeScope(), eigenvalues, eigenPower);
        pca.Bias.MoveToOuterDisposeScope();
        return pca;
    }

    /// <summary>Projects the rows of <paramref name="x"/> (float32 [N, d_in], same device): returns [N, d_out].</summary>
    public Tensor Apply(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != InputDim)
            throw new ArgumentException($"PCA expects [N, {InputDim}] input, got [{string.Join(", ", x.shape)}].", nameof(x));
        using var bias = Bias.unsqueeze(0);
        using var at = Matrix.t();
        return addmm(bias, x, at, 1, 1);
    }

    /// <summary>Frees the native tensors.</summary>
    public void Dispose()
    {
        Mean.Dispose();
        Matrix.Dispose();
        Bias.Dispose();
    }
}

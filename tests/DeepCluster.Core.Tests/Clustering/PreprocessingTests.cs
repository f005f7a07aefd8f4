using DeepCluster.Core.IO;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

public class PreprocessingTests
{
    public PreprocessingTests() => TorchRuntime.EnsureLoaded();

    static Tensor Correlated(int n, int d, int seed)
    {
        var (x, _) = Blobs.Make(n, d, 7, seed, spread: 3, noise: 1);
        var rng = new Random(seed + 1);
        var mix = tensor(Enumerable.Range(0, d * d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), new long[] { d, d });
        return x.matmul(mix);
    }

    [Fact]
    public void WhitenedCovarianceIsIdentity()
    {
        using var scope = NewDisposeScope();
        var x = Correlated(4000, 32, 1);
        using var pca = PcaMatrix.Train(x, 16);
        var y = pca.Apply(x).to(ScalarType.Float64);
        var yc = y - y.mean(new long[] { 0 });
        var cov = yc.t().matmul(yc) / y.shape[0];
        var err = (cov - eye(16, dtype: ScalarType.Float64)).abs().max().item<double>();
        Assert.True(err < 1e-3, $"max |cov - I| = {err}");
        Assert.True(pca.Eigenvalues.Zip(pca.Eigenvalues.Skip(1), (a, b) => a >= b).All(ok => ok));
    }

    [Fact]
    public void PreprocessGivesUnitRowsAndMatchesFaissUpToSign()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var x = Correlated(2000, 24, 2);
        NpyFile.WriteTensor(dir.File("x.npy"), x);
        using var pre = FeaturePreprocessing.Preprocess(x, 8);
        var norms = pre.Features.norm(1);
        Assert.True((norms - 1).abs().max().item<float>() < 1e-5);

        PythonPeer.Run("""
            import sys, numpy as np, faiss
            x = np.load(sys.argv[1])
            mat = faiss.PCAMatrix(x.shape[1], 8, eigen_power=-0.5)
            mat.train(x)
            y = mat.apply_py(x)
            y = y / np.linalg.norm(y, axis=1)[:, None]
            np.save(sys.argv[2], y.astype(np.float32))
            """, dir.File("x.npy"), dir.File("y.npy"));
        var faiss = NpyFile.ReadTensor(dir.File("y.npy"));
        // Columns agree up to the sign of each eigenvector.
        var signs = (pre.Features * faiss).sum(dim: 0).sign();
        var diff = (pre.Features - faiss * signs).abs().max().item<float>();
        Assert.True(diff < 1e-3, $"max difference to faiss {diff}");
    }

    [Fact]
    public void RankDeficientAndZeroRowsGiveFiniteOutput()
    {
        using var scope = NewDisposeScope();
        // 10 points in 32 dims: rank 9 < 16 output dims; one row equal to the mean of the others.
        var x = Correlated(10, 32, 3);
        using var pre = FeaturePreprocessing.Preprocess(x, 16);
        Assert.True(isfinite(pre.Features).all().item<bool>());
        var same = ones(5, 4);
        Assert.Throws<ArgumentException>(() => FeaturePreprocessing.Preprocess(same, 2));
    }

    [Fact]
    public void RejectsNaNAndBadDimensions()
    {
        using var scope = NewDisposeScope();
        var x = Correlated(100, 8, 4);
        x[3, 2] = tensor(float.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => PcaMatrix.Train(x, 4)).Message);
        var y = Correlated(100, 8, 4);
        Assert.Throws<ArgumentException>(() => PcaMatrix.Train(y, 9));
        Assert.Throws<ArgumentException>(() => PcaMatrix.Train(y.to(ScalarType.Float64), 4));
    }
}

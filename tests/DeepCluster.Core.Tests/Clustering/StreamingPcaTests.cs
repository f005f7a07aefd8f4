using DeepCluster.Core.Clustering;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Clustering;

public class StreamingPcaTests
{
    public StreamingPcaTests() => TorchRuntime.EnsureLoaded();

    /// <summary>Rows with a large mean and a rotated, geometrically decaying spectrum (distinct eigenvalues).</summary>
    static Tensor Features(int n, int d, ulong seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(seed);
        var scales = arange(d, ScalarType.Float64).mul_(Math.Log(0.85)).exp_().mul_(3);
        var (q, _) = linalg.qr(randn(new long[] { d, d }, ScalarType.Float64, generator: g));
        var z = randn(new long[] { n, d }, ScalarType.Float64, generator: g) * scales;
        var offset = randn(new long[] { d }, ScalarType.Float64, generator: g).add_(5);
        return (z.matmul(q) + offset).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    static double RelativeError(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var a64 = a.to_type(ScalarType.Float64);
        var b64 = b.to_type(ScalarType.Float64);
        return ((a64 - b64).norm().item<double>()) / b64.norm().item<double>();
    }

    static long[] Bounds(long n, int parts) =>
        Enumerable.Range(0, parts + 1).Select(i => n * i / parts).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void PcaFromMergedRangeStatisticsEqualsPcaOfTheWholeMatrix(int parts)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        const int n = 3000, d = 64, p = 16;
        var x = Features(n, d, 5);
        var path = dir.File("features.npy");
        NpyFile.WriteTensor(path, x);

        var file = new NpyRowChunks(path);
        var b = Bounds(n, parts);
        var ranges = Enumerable.Range(0, parts).Select(i => PcaStatistics.OfFile(file, b[i], b[i + 1] - b[i], rowsPerChunk: 333)).ToList();
        using var merged = PcaStatistics.Merge(ranges);
        ranges.ForEach(r => r.Dispose());
        Assert.Equal(n, merged.Count);

        using var streamed = merged.Fit(p);
        using var whole = PcaMatrix.Train(x, p);
        Assert.True(RelativeError(streamed.Mean, whole.Mean) < 1e-6, $"mean differs by {RelativeError(streamed.Mean, whole.Mean)}");
        for (int i = 0; i < p; i++)
            Assert.Equal(whole.Eigenvalues[i], streamed.Eigenvalues[i], whole.Eigenvalues[i] * 1e-5);
        var err = RelativeError(streamed.Apply(x), whole.Apply(x));
        Assert.True(err < 1e-4, $"PCA outputs differ by {err} (relative)");
    }

    [Fact]
    public void MergedStatisticsMatchTheDirectMeanAndCovariance()
    {
        using var scope = NewDisposeScope();
        var x = Features(2000, 24, 9);
        using var a = PcaStatistics.Of(x.narrow(0, 0, 700), rowsPerChunk: 100);
        using var b = PcaStatistics.Of(x.narrow(0, 700, 1300), rowsPerChunk: 512);
        a.Add(b);
        var x64 = x.to_type(ScalarType.Float64);
        var mean = x64.mean(new long[] { 0 });
        var xc = x64 - mean;
        var cov = xc.t().matmul(xc) / 2000;
        Assert.Equal(2000, a.Count);
        Assert.True(RelativeError(a.Mean, mean) < 1e-7);
        Assert.True(RelativeError(a.Covariance(), cov) < 1e-6, $"covariance differs by {RelativeError(a.Covariance(), cov)}");
    }

    [Fact]
    public void StatisticsSurviveSaveAndLoad()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        using var s = PcaStatistics.Of(Features(300, 8, 2));
        s.Save(dir.File("stats.npy"));
        using var back = PcaStatistics.Load(dir.File("stats.npy"));
        Assert.Equal(s.Count, back.Count);
        Assert.True(back.Mean.allclose(s.Mean, 0, 0) && back.Scatter.allclose(s.Scatter, 0, 0));
        NpyFile.WriteTensor(dir.File("bad.npy"), zeros(3, 3));
        var e = Assert.Throws<InvalidDataException>(() => PcaStatistics.Load(dir.File("bad.npy")));
        Assert.Contains("bad.npy", e.Message);
    }

    [Fact]
    public void StreamingPreprocessingEqualsInMemoryPreprocessing()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var x = Features(2500, 48, 3);
        NpyFile.WriteTensor(dir.File("f.npy"), x);
        using var streamed = StreamingPreprocessing.Preprocess(dir.File("f.npy"), 20, rowsPerChunk: 301);
        using var memory = FeaturePreprocessing.Preprocess(x, 20);
        Assert.Equal(new long[] { 2500, 20 }, streamed.Features.shape);
        var err = RelativeError(streamed.Features, memory.Features);
        Assert.True(err < 1e-4, $"features differ by {err} (relative)");
    }

    [Fact]
    public void Float64FilesAreReadAndNonFiniteRowsAreNamed()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var x = Features(500, 12, 4);
        NpyFile.WriteTensor(dir.File("f64.npy"), x.to_type(ScalarType.Float64));
        using var s32 = PcaStatistics.Of(x);
        using var s64 = PcaStatistics.OfFile(new NpyRowChunks(dir.File("f64.npy")), 0, 500, rowsPerChunk: 64);
        Assert.True(RelativeError(s64.Scatter, s32.Scatter) < 1e-6);

        x[321, 5] = tensor(float.NaN);
        NpyFile.WriteTensor(dir.File("nan.npy"), x);
        var e = Assert.Throws<InvalidDataException>(() => StreamingPreprocessing.Preprocess(dir.File("nan.npy"), 4, rowsPerChunk: 100));
        Assert.Contains("nan.npy", e.Message);
        Assert.Contains("rows 300..399", e.Message);

        NpyFile.WriteTensor(dir.File("vec.npy"), zeros(10));
        var rank = Assert.Throws<InvalidDataException>(() => new NpyRowChunks(dir.File("vec.npy")));
        Assert.Contains("vec.npy", rank.Message);
    }
}

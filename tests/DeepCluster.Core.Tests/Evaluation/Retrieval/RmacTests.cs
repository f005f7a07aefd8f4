using System.Globalization;
using DeepCluster.Core.Evaluation.Retrieval;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Evaluation.Retrieval;

public class RmacTests
{
    public RmacTests() => TorchRuntime.EnsureLoaded();

    static readonly (int H, int W)[] Sizes =
        [(1, 1), (2, 3), (3, 2), (5, 5), (7, 12), (12, 7), (16, 16), (30, 40), (40, 30), (48, 64), (64, 48), (37, 101), (101, 37), (24, 32), (63, 47)];

    [Fact]
    public void RegionGridEqualsThePublishedFunction()
    {
        var script = PublishedRmac.Code + """
            import sys
            for arg in sys.argv[1:]:
                H, W, L = map(int, arg.split(','))
                r = get_rmac_region_coordinates(H, W, L)
                print(' '.join('%d,%d,%d,%d' % tuple(int(v) for v in row) for row in r))
            """;
        var cases = Sizes.SelectMany(s => new[] { 1, 3, 4 }.Select(l => (s.H, s.W, L: l))).ToArray();
        var lines = PythonPeer.Run(script, cases.Select(c => $"{c.H},{c.W},{c.L}").ToArray()).Trim().Split('\n');
        Assert.Equal(cases.Length, lines.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            var ours = string.Join(' ', RmacRegions.Coordinates(cases[i].H, cases[i].W, cases[i].L).Select(r => $"{r.X},{r.Y},{r.Width},{r.Height}"));
            Assert.True(lines[i].Trim() == ours, $"H {cases[i].H} W {cases[i].W} L {cases[i].L}:\npublished {lines[i].Trim()}\nours      {ours}");
        }
    }

    /// <summary>Hand values: a 30 × 40 map (the long side takes one more region per level).</summary>
    [Fact]
    public void RegionGridOfA30By40MapHasTheExpectedRegions()
    {
        var r = RmacRegions.Coordinates(30, 40, 3);
        // Level 1: side 30, 2 regions across (x 0 and 10); level 2: side 20, 2 × 3; level 3: side 15, 3 × 4.
        Assert.Equal(2 + 6 + 12, r.Length);
        Assert.Equal([new RmacRegion(0, 0, 30, 30), new RmacRegion(10, 0, 30, 30)], r[..2]);
        Assert.All(r[2..8], x => Assert.Equal(20, x.Width));
        Assert.All(r, x => Assert.True(x.X >= 0 && x.Y >= 0 && x.X + x.Width <= 40 && x.Y + x.Height <= 30));
    }

    [Fact]
    public void DescriptorIsL2NormalisedAndEqualsThePublishedRmac()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        const int c = 12;
        int[][] shapes = [[c, 9, 13], [c, 14, 10]];
        var maps = shapes.Select(s => Enumerable.Range(0, s[0] * s[1] * s[2]).Select(_ => (float)Math.Max(0, rng.NextDouble() * 2 - 0.6)).ToArray()).ToArray();
        var train = Enumerable.Range(0, 300 * c).Select(_ => (float)rng.NextDouble()).ToArray();
        for (int i = 0; i < maps.Length; i++) Write(dir.File($"map{i}.txt"), maps[i]);
        Write(dir.File("train.txt"), train);
        var py = PythonPeer.Run(PublishedRmac.Code + $$"""
            import sys
            d = sys.argv[1]
            X = np.loadtxt(d + '/train.txt', dtype=np.float32).reshape(-1, {{c}}).astype(np.float64)
            pca = PCA(8)
            pca.fit(X)
            out = []
            for i, s in enumerate([(9, 13), (14, 10)]):
                f = torch.from_numpy(np.loadtxt(d + '/map%d.txt' % i, dtype=np.float32).reshape(1, {{c}}, *s)).double()
                plain = normalize_L2(torch.sum(rmac(f, 3), 1), 1)[0]
                white = rmac(f, 3, pca)[0]
                out.append(white)
                print(' '.join(repr(float(v)) for v in plain))
                print(' '.join(repr(abs(float(v))) for v in white))
            print(repr(float(torch.dot(out[0], out[1]))))
            """, dir.Path).Trim().Split('\n');

        using var trainRows = tensor(train, [300, c]);
        using var stats = DeepCluster.Core.Clustering.PcaStatistics.Of(trainRows);
        using var pca = stats.Fit(8, -0.5, RetrievalEvaluation.EigenFloor);
        var whitened = new List<Tensor>();
        for (int i = 0; i < maps.Length; i++)
        {
            using var map = tensor(maps[i], [1, shapes[i][0], shapes[i][1], shapes[i][2]]);
            using var regions = Rmac.RegionDescriptors(map, 3);
            Assert.Equal(RmacRegions.Coordinates(shapes[i][1], shapes[i][2], 3).Length, regions.shape[0]);
            Assert.True(regions.norm(1).sub(1).abs().max().item<float>() < 1e-5, "region descriptors are L2-normalised");
            using var plain = Rmac.Aggregate(regions, null);
            var white = Rmac.Aggregate(regions, pca);
            whitened.Add(white);
            Assert.Equal(8, white.shape[0]);
            Assert.True(Math.Abs(white.norm().item<float>() - 1) < 1e-5, "the descriptor is L2-normalised");
            PythonNumbers.AssertClose(py[2 * i], plain.data<float>().ToArray(), 1e-5);
            // Eigenvectors have no canonical sign, so each whitened component may flip: compare magnitudes and dot products.
            PythonNumbers.AssertClose(py[2 * i + 1], white.abs().data<float>().ToArray(), 2e-4);
        }
        Assert.Equal(double.Parse(py[4], CultureInfo.InvariantCulture), whitened[0].dot(whitened[1]).item<float>(), 4);
        foreach (var t in whitened) t.Dispose();
    }

    static void Write(string path, float[] values) =>
        File.WriteAllText(path, string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
}

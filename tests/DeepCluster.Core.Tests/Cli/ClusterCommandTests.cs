using DeepCluster.Core.IO;
using System.Text.Json;
using DeepCluster.Core.Clustering;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Cli;

[Collection("Console")]
public class ClusterCommandTests
{
    public ClusterCommandTests() => TorchRuntime.EnsureLoaded();

    static (int Code, string Out, string Err) Run(params string[] args)
        => CliInProcess.Run(args);

    static string Features(TempDir dir, int n = 300, int d = 16)
    {
        using var scope = NewDisposeScope();
        var (x, _) = Blobs.Make(n, d, 5, seed: 1);
        var path = dir.File("f.npy");
        NpyFile.WriteTensor(path, x);
        return path;
    }

    [Fact]
    public void ClustersAndWritesOutputs()
    {
        using var dir = new TempDir();
        var f = Features(dir);
        var outDir = dir.File("out");
        var (code, stdout, err) = Run("cluster", f, "--k", "5", "--pca", "8", "--niter", "7", "--device", "cpu", "--out", outDir);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("k-means iteration 7/7", stdout);
        var check = PythonPeer.Run("""
            import sys, json, pickle, numpy as np
            a = np.load(sys.argv[1] + "/assignments.npy"); lists = pickle.load(open(sys.argv[1] + "/images_lists", "rb"))
            assert a.dtype == np.int64 and a.shape == (300,)
            assert all(a[i] == c for c, l in enumerate(lists) for i in l) and sum(map(len, lists)) == 300
            print(len(lists), len(open(sys.argv[1] + "/objective.tsv").read().strip().split("\n")))
            """, outDir);
        Assert.Equal("5 8", check.Trim());
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.True(summary.RootElement.GetProperty("seconds").GetProperty("total").GetDouble() > 0);
        Assert.Equal(7, summary.RootElement.GetProperty("objectives").GetArrayLength());

        var (picCode, _, picErr) = Run("cluster", f, "--k", "5", "--pca", "8", "--clustering", "PIC", "--device", "cpu", "--out", dir.File("pic"));
        Assert.True(picCode == 0, picErr);
        Assert.True(File.Exists(dir.File("pic/assignments.npy")));
    }

    [Theory]
    [InlineData("missing", "5", "8", "Kmeans", "no such file")]
    [InlineData("ok", "0", "8", "Kmeans", "--k 0")]
    [InlineData("ok", "-3", "8", "Kmeans", "--k -3")]
    [InlineData("ok", "301", "8", "Kmeans", "--k 301: larger than the number of points 300")]
    [InlineData("ok", "5", "17", "Kmeans", "--pca 17: larger than the feature dimension 16")]
    [InlineData("ok", "5", "8", "Spectral", "--clustering Spectral")]
    [InlineData("f8", "5", "8", "Kmeans", "dtype <f8")]
    [InlineData("rank3", "5", "8", "Kmeans", "rank 3")]
    [InlineData("garbage", "5", "8", "Kmeans", "not a .npy file")]
    public void BadInputIsOneLineAndExitCode2(string file, string k, string pca, string clustering, string expected)
    {
        using var dir = new TempDir();
        var path = file switch
        {
            "missing" => dir.File("nope.npy"),
            "ok" => Features(dir),
            "garbage" => Write(dir.File("g.npy"), "hello"),
            _ => MakeWithNumpy(dir, file),
        };
        var (code, stdout, err) = Run("cluster", path, "--k", k, "--pca", pca, "--clustering", clustering, "--device", "cpu", "--out", dir.File("o"));
        CliErrors.AssertOneLine(code, stdout, err, expected);
        if (file is "missing" or "f8" or "rank3" or "garbage") Assert.Contains(path, err);
    }

    [Fact]
    public void AnOutputThatCannotBeWrittenIsRefusedBeforeClustering()
    {
        // Before, --out FILE ran all of k-means and then failed with an IOException naming no flag.
        using var dir = new TempDir();
        var f = Features(dir);
        File.WriteAllText(dir.File("file"), "x");
        foreach (var outDir in new[] { dir.File("file"), Path.Combine(dir.File("file"), "sub") })
        {
            var (code, stdout, err) = Run("cluster", f, "--k", "5", "--pca", "8", "--device", "cpu", "--out", outDir);
            Assert.Equal(2, code);
            Assert.StartsWith("deepcluster: --out " + outDir, err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.DoesNotContain("k-means", stdout);
        }
        Assert.Equal("x", File.ReadAllText(dir.File("file")));
    }

    static string Write(string path, string text) { File.WriteAllText(path, text); return path; }

    static string MakeWithNumpy(TempDir dir, string kind)
    {
        var path = dir.File(kind + ".npy");
        var expr = kind == "f8" ? "np.zeros((300, 16))" : "np.zeros((3, 4, 5), dtype=np.float32)";
        PythonPeer.Run($"import sys, numpy as np; np.save(sys.argv[1], {expr})", path);
        return path;
    }
}

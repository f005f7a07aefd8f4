using DeepCluster.Core.Clustering;
using DeepCluster.Core.Data;
using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Export;
using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Evaluation;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Export;

/// <summary>`deepcluster features`: the rows are the model's features before the last ReLU, in dataset order, with their paths.</summary>
[Collection("Console")]
public class FeaturesCommandTests
{
    public FeaturesCommandTests() => TorchRuntime.EnsureLoaded();

    /// <summary>An ImageFolder of 3 classes × 40 grey 28×28 PNGs.</summary>
    static string Images(TempDir dir)
    {
        EvalFixtures.ImageFolder(dir.File("data"), classes: 3, trainPerClass: 40, valPerClass: 1);
        return dir.File("data/train");
    }

    /// <summary>A saved alexnet_small with Sobel (random weights), so the test and the command use the very same model.</summary>
    static string Model(TempDir dir)
    {
        var path = dir.File("model.pth.tar");
        using var m = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        Checkpoint.Save(path, 0, "alexnet_small", m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), null);
        return path;
    }

    static (float[] Data, int Rows, int Cols) Export(TempDir dir, string model, string data, string name, params string[] extra)
    {
        var (code, stdout, err) = CliInProcess.Run(["features", "--model", model, "--data", data, "--out", dir.File(name),
                                                    "--device", "cpu", "--batch", "16", "--workers", "2", .. extra]);
        Assert.True(code == 0, err + stdout);
        return NpyFile.ReadFloat32Matrix(dir.File(name));
    }

    [Fact]
    public void RowsAreTheFeaturesBeforeTheLastReluOfEachImageInOrder()
    {
        using var dir = new TempDir();
        var data = Images(dir);
        var model = Model(dir);
        var (rows, n, d) = Export(dir, model, data, "f.npy");
        var folder = new ImageFolder(data);
        Assert.Equal((120, 512), (n, d));
        Assert.Equal(folder.Paths, File.ReadAllLines(dir.File("f.npy.paths.txt")));

        // The same images through the model directly: pixels normalised by hand (28×28 models take the image as it is).
        using var net = EvaluatedModel.Load(model, null, false, 0, CPU);
        foreach (var i in new[] { 0, 41, 119 })
        {
            using var scope = NewDisposeScope();
            var img = ImageCodec.Decode(folder.Paths[i]);
            var x = new float[3 * 28 * 28];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 28 * 28; p++)
                    x[c * 784 + p] = (float)((img.Pixels[p * 3 + c] / 255.0 - ImageNetStats.Mean[c]) / ImageNetStats.Std[c]);
            float[] expected;
            using (inference_mode()) expected = net.Embed(tensor(x, [1, 3, 28, 28])).data<float>().ToArray();
            var actual = rows.AsSpan(i * d, d).ToArray();
            for (int j = 0; j < d; j++) Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-4f * (1 + Math.Abs(expected[j])), $"image {i}, feature {j}: {actual[j]} vs {expected[j]}");
        }
        Assert.Contains(rows, v => v < 0);      // before the ReLU: a ReLU'd output has no negative value

        var check = PythonPeer.Run("""
            import sys, numpy as np
            f = np.load(sys.argv[1]); paths = open(sys.argv[1] + ".paths.txt").read().splitlines()
            print(f.dtype, f.shape[0], f.shape[1], len(paths))
            """, dir.File("f.npy"));
        Assert.Equal("float32 120 512 120", check.Trim());
    }

    [Fact]
    public void PcaAndL2GiveTheRowsClusteringSees()
    {
        using var dir = new TempDir();
        var data = Images(dir);
        var model = Model(dir);
        var (raw, n, d) = Export(dir, model, data, "raw.npy");
        var (small, _, ds) = Export(dir, model, data, "pca16.npy", "--pca", "16", "--l2");
        Assert.Equal(16, ds);
        using (var scope = NewDisposeScope())
        using (var pre = FeaturePreprocessing.Preprocess(tensor(raw, [n, d]), 16))
        {
            var expected = pre.Features.data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - small[i]) < 2e-3f, $"value {i}: {small[i]} vs {expected[i]}");
        }

        Export(dir, model, data, "pca256.npy", "--pca", "256", "--l2");
        var check = PythonPeer.Run("""
            import sys, numpy as np
            f = np.load(sys.argv[1]); norms = np.linalg.norm(f.astype(np.float64), axis=1)
            print(f.shape[0], f.shape[1], bool(np.all(np.abs(norms - 1) < 1e-4)))
            """, dir.File("pca256.npy"));
        Assert.Equal("120 256 True", check.Trim());

        var (l2, _, _) = Export(dir, model, data, "l2.npy", "--l2");
        for (int i = 0; i < n; i++)
        {
            double norm = 0, rawNorm = 0;
            for (int j = 0; j < d; j++) { norm += l2[i * d + j] * (double)l2[i * d + j]; rawNorm += raw[i * d + j] * (double)raw[i * d + j]; }
            Assert.Equal(1, Math.Sqrt(norm), 4);
            Assert.Equal(raw[i * d] / Math.Sqrt(rawNorm), l2[i * d], 4);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, ".*.tmp"));              // the raw rows of the PCA runs are gone
    }

    [Fact]
    public void APackAndAnIdxFolderExportTheirImagesToo()
    {
        using var dir = new TempDir();
        var data = Images(dir);
        var model = Model(dir);
        DatasetPacker.Pack(data, dir.File("train.dcpack"), new PackOptions());
        var (fromFolder, _, _) = Export(dir, model, data, "folder.npy");
        var (fromPack, _, _) = Export(dir, model, dir.File("train.dcpack"), "pack.npy");
        Assert.Equal(fromFolder, fromPack);
        Assert.Equal(File.ReadAllLines(dir.File("folder.npy.paths.txt")), File.ReadAllLines(dir.File("pack.npy.paths.txt")));

        EvalFixtures.Idx(dir.File("idx"), train: 20, test: 5);
        var (_, rows, _) = Export(dir, model, dir.File("idx"), "idx.npy", "--split", "t10k");
        Assert.Equal(5, rows);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{Path.Combine(dir.File("idx"), "t10k-images-idx3-ubyte")}#{i}"),
                     File.ReadAllLines(dir.File("idx.npy.paths.txt")));
    }

    [Fact]
    public void AFullSizeAlexNetGives4096Features()
    {
        using var dir = new TempDir();
        var root = dir.File("big/c");
        Directory.CreateDirectory(root);
        var rng = new Random(3);
        for (int i = 0; i < 3; i++)
        {
            var px = new byte[300 * 260 * 3];
            rng.NextBytes(px);
            ImageCodec.SavePng(new RgbImage(300, 260, px), Path.Combine(root, $"{i}.png"));
        }
        var (code, stdout, err) = CliInProcess.Run("features", "--arch", "alexnet", "--sobel", "--data", dir.File("big"), "--out", dir.File("a.npy"), "--device", "cpu", "--workers", "1");
        Assert.True(code == 0, err + stdout);
        var (rows, n, d) = NpyFile.ReadFloat32Matrix(dir.File("a.npy"));
        Assert.Equal((3, 4096), (n, d));
        Assert.Contains(rows, v => v < 0);
    }

    [Theory]
    [InlineData("pca-too-wide", "--pca 1000: larger than the feature dimension 512")]
    [InlineData("pca-negative", "--pca -4")]
    [InlineData("no-images", "holds no file")]
    [InlineData("no-data", "not found")]
    [InlineData("out-is-folder", "--out")]
    [InlineData("wrong-split", "--split train")]
    public void BadInputIsOneLine(string kind, string expected)
    {
        using var dir = new TempDir();
        var model = Model(dir);
        var data = kind switch
        {
            "no-images" => dir.File("empty"),
            "no-data" => dir.File("missing"),
            "wrong-split" => dir.File("idx"),
            _ => Images(dir),
        };
        Directory.CreateDirectory(dir.File("empty/c"));
        if (kind == "wrong-split")
        {
            EvalFixtures.Idx(data, train: 4, test: 2);
            foreach (var f in Directory.GetFiles(data, "train-*")) File.Delete(f);
        }
        string[] extra = kind switch
        {
            "pca-too-wide" => ["--pca", "1000"],
            "pca-negative" => ["--pca", "-4"],
            _ => [],
        };
        var output = kind == "out-is-folder" ? dir.Path : dir.File("f.npy");
        var (code, stdout, err) = CliInProcess.Run(["features", "--model", model, "--data", data, "--out", output, "--device", "cpu", .. extra]);
        CliErrors.AssertOneLine(code, stdout, err, expected);
        Assert.False(File.Exists(dir.File("f.npy")));
    }
}

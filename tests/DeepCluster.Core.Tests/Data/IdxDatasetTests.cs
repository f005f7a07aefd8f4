using System.IO.Compression;
using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Support;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

public class IdxDatasetTests
{
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    const string SumsPeer = """
import sys, gzip, numpy as np
d, n = sys.argv[1], int(sys.argv[2])
x = np.frombuffer(gzip.open(f'{d}/train-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]
y = np.frombuffer(gzip.open(f'{d}/train-labels-idx1-ubyte.gz').read(), np.uint8, offset=8)[:n]
print(int(x.astype(np.int64).sum()), int((x.astype(np.int64) * np.arange(784).reshape(28, 28)).sum() % 1000003), ' '.join(map(str, y[:50])), np.bincount(y, minlength=10).tolist())
""";

    [Fact]
    public void ReadsFashionMnistLikeNumpy()
    {
        var ds = IdxDataset.FromFolder(FashionMnist, "train", limit: 10_000);
        Assert.Equal(10_000, ds.Count);
        Assert.Equal((28, 28), (ds.Width, ds.Height));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), ds.Classes);
        long sum = 0, weighted = 0;
        for (int i = 0; i < ds.Count; i++)
        {
            var px = ds.Load(i).Pixels;
            for (int p = 0; p < 784; p++)
            {
                Assert.True(px[3 * p] == px[3 * p + 1] && px[3 * p] == px[3 * p + 2]);
                sum += px[3 * p];
                weighted = (weighted + px[3 * p] * (long)p) % 1000003;
            }
        }
        var peer = PythonPeer.Run(SumsPeer, FashionMnist, "10000").Trim();
        var counts = Enumerable.Range(0, 10).Select(c => ds.Labels.Count(l => l == c));
        Assert.Equal(peer, $"{sum} {weighted} {string.Join(' ', ds.Labels.Take(50))} [{string.Join(", ", counts)}]");
        Assert.Equal(10_000, IdxDataset.FromFolder(FashionMnist, "t10k").Count);
    }

    [Fact]
    public void RawFilesAndHeaderChecks()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            using var gz = new GZipStream(File.OpenRead(Path.Combine(FashionMnist, name + ".gz")), CompressionMode.Decompress);
            using var raw = File.Create(dir.File(name));
            gz.CopyTo(raw);
        }
        var fromRaw = IdxDataset.FromFolder(dir.Path, "t10k", limit: 100);
        var fromGz = IdxDataset.FromFolder(FashionMnist, "t10k", limit: 100);
        Assert.Equal(fromGz.Labels, fromRaw.Labels);
        Assert.Equal(fromGz.Load(99).Pixels, fromRaw.Load(99).Pixels);

        // Labels file given as images: wrong magic.
        var e = Assert.Throws<InvalidDataException>(() => new IdxDataset(dir.File("t10k-labels-idx1-ubyte"), dir.File("t10k-labels-idx1-ubyte")));
        Assert.Contains("2049", e.Message); Assert.Contains("2051", e.Message);
        Assert.Throws<FileNotFoundException>(() => IdxDataset.FromFolder(dir.Path, "train"));
        Assert.Throws<DirectoryNotFoundException>(() => IdxDataset.FromFolder(dir.File("nope")));
    }

    const string TorchvisionPeer = """
import sys, numpy as np, torch, torchvision.datasets as D, torchvision.transforms as T
ds = D.ImageFolder(sys.argv[1], transform=T.ToTensor())
with open(sys.argv[2], 'wb') as f:
    for x, y in ds: x.numpy().astype(np.float32).tofile(f)
print('\n'.join(f'{p}\t{y}' for p, y in ds.samples))
""";

    [Fact]
    public void ExportedImageFolderGivesIdenticalTensorsBothWaysAndInTorchvision()
    {
        using var dir = new TempDir();
        var idx = IdxDataset.FromFolder(FashionMnist, "train", limit: 300);
        var root = dir.File("fmnist");
        idx.ExportImageFolder(root);
        var folder = new ImageFolder(root);
        Assert.Equal(idx.Count, folder.Count);
        Assert.Equal(idx.Classes, folder.Classes);
        var seen = new HashSet<int>();
        var fromFolder = new float[folder.Count][];
        for (int k = 0; k < folder.Count; k++)
        {
            int i = int.Parse(Path.GetFileNameWithoutExtension(folder.Paths[k]));
            Assert.True(seen.Add(i));
            Assert.Equal(idx.Labels[i], folder.Labels[k]);
            fromFolder[k] = ToTensor(folder.Load(k));
            Assert.Equal(ToTensor(idx.Load(i)), fromFolder[k]);
        }
        // The other way: every IDX sample is found in the folder with the same tensor.
        Assert.Equal(Enumerable.Range(0, idx.Count), seen.Order());

        var lines = PythonPeer.Run(TorchvisionPeer, root, dir.File("tv.bin")).TrimEnd('\n').Split('\n');
        Assert.Equal(folder.Paths, lines.Select(l => l.Split('\t')[0]));
        var tv = ReadFloats(dir.File("tv.bin"));
        Assert.Equal(folder.Count * 3 * 28 * 28, tv.Length);
        for (int k = 0; k < folder.Count; k++)
            Assert.Equal(fromFolder[k], tv.AsSpan(k * 3 * 784, 3 * 784).ToArray());
    }
}

using System.IO.Compression;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;
using DeepCluster.Core.IO.Caffe;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Data;
using DeepCluster.Core.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.IO;

/// <summary>
/// Every file reader, fed truncations and seeded random byte changes of a real file: the only outcomes allowed are a
/// successful read or our one clear error naming the file (<see cref="InvalidDataException"/> for data files,
/// <see cref="ImageDecodeException"/> for images), never a crash or another exception type, and never an allocation
/// out of proportion to the file (managed bytes measured; tensors checked against the file's length).
/// </summary>
public class ReaderFuzzTests(ITestOutputHelper output)
{
    /// <summary>Managed bytes a read may allocate: this many times the file, plus <see cref="AllocationSlack"/>.</summary>
    const long AllocationFactor = 64;
    const long AllocationSlack = 8 << 20;

    const string PythonFiles = """
        import sys, collections, torch
        d = sys.argv[1]
        torch.manual_seed(0)
        sd = collections.OrderedDict([('features.0.weight', torch.randn(4, 3)), ('features.0.bias', torch.arange(5.)),
                                      ('classifier.1.weight', torch.randn(2, 2).t()), ('steps', torch.tensor(3))])
        ckpt = {'epoch': 2, 'arch': 'tiny', 'state_dict': sd,
                'optimizer': {'state': {0: {'momentum_buffer': torch.ones(4, 3)}},
                              'param_groups': [{'lr': 0.05, 'momentum': 0.9, 'dampening': 0, 'weight_decay': 1e-5,
                                                'nesterov': False, 'params': [0, 1, 2, 3]}]}}
        torch.save(ckpt, d + '/legacy.pth.tar', _use_new_zipfile_serialization=False)
        torch.save(ckpt, d + '/pyzip.pth.tar')
        """;

    [Fact]
    public void CheckpointsLegacyAndZip()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        PythonPeer.Run(PythonFiles, dir.Path);
        var ours = dir.File("ours.pth.tar");
        using (var ckpt = Checkpoint.Load(dir.File("pyzip.pth.tar")))
            Checkpoint.Save(ours, ckpt.Epoch, ckpt.Arch, ckpt.StateDict, ckpt.Optimizer);

        foreach (var name in new[] { "legacy.pth.tar", "pyzip.pth.tar", "ours.pth.tar" })
            Fuzz(name, File.ReadAllBytes(dir.File(name)), ".pth.tar", seed: name.Length, path =>
            {
                using var c = Checkpoint.Load(path);
                AssertTensorsFit(c.StateDict.Values.Concat(c.Optimizer?.MomentumBuffers.Values.AsEnumerable() ?? []), path);
            });
        Fuzz("state dict (legacy)", File.ReadAllBytes(dir.File("legacy.pth.tar")), ".pth", seed: 5, path =>
        {
            var sd = StateDictLoader.Load(path);
            AssertTensorsFit(sd.Values, path);
            foreach (var t in sd.Values) t.Dispose();
        });
    }

    /// <summary>A released-style caffemodel (protobuf, no checksum: most changed floats still load), read and mapped.</summary>
    [Fact]
    public void CaffeModel()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        using (var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 3))
            Caffe.ReleasedCaffeExport.Write(model, dir.File("model.caffemodel"));
        Fuzz("caffemodel", File.ReadAllBytes(dir.File("model.caffemodel")), ".caffemodel", seed: 6, path =>
        {
            using var loaded = CaffeImport.Load(path, withHead: true);
        });
    }

    [Fact]
    public void ClustersPickle()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var log = Enumerable.Range(0, 3).Select(_ => (IReadOnlyList<IReadOnlyList<int>>)Enumerable.Range(0, 5)
            .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, rng.Next(0, 9)).Select(_ => rng.Next(0, 100_000)).ToArray()).ToArray()).ToArray();
        var path = dir.File("clusters");
        ClustersLog.Write(path, log);
        Fuzz("clusters", File.ReadAllBytes(path), "", seed: 2, p => ClustersLog.Read(p));
    }

    [Fact]
    public void Npy()
    {
        TorchRuntime.EnsureLoaded();
        using var dir = new TempDir();
        var features = dir.File("f.npy");
        NpyFile.WriteFloat32Matrix(features, Enumerable.Range(0, 48).Select(i => i * 0.5f).ToArray(), 12, 4);
        var ints = dir.File("i.npy");
        NpyFile.WriteInt64(ints, Enumerable.Range(0, 20).Select(i => (long)i * 7).ToArray());

        var bytes = File.ReadAllBytes(features);
        Fuzz("npy matrix", bytes, ".npy", seed: 3, p => NpyFile.ReadFloat32Matrix(p));
        Fuzz("npy tensor", bytes, ".npy", seed: 4, p =>
        {
            using var t = NpyFile.ReadTensor(p);
            AssertTensorsFit([t], p);
        });
        Fuzz("npy int64", File.ReadAllBytes(ints), ".npy", seed: 5, p => NpyFile.ReadInt64(p));
    }

    [Fact]
    public void Idx()
    {
        using var dir = new TempDir();
        var rng = new Random(6);
        var images = new byte[16 + 20 * 8 * 8];
        rng.NextBytes(images);
        images[0] = 0; images[1] = 0; images[2] = 8; images[3] = 3;
        WriteBigEndian(images, 4, 20); WriteBigEndian(images, 8, 8); WriteBigEndian(images, 12, 8);
        var labels = new byte[8 + 20];
        labels[2] = 8; labels[3] = 1;
        WriteBigEndian(labels, 4, 20);
        for (int i = 0; i < 20; i++) labels[8 + i] = (byte)(i % 10);
        var labelsPath = dir.File("labels-idx1-ubyte");
        File.WriteAllBytes(labelsPath, labels);

        Fuzz("idx images", images, "-images-idx3-ubyte", seed: 7, p => _ = new IdxDataset(p, labelsPath).Load(0));
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(images);
        Fuzz("idx images (gzip)", gz.ToArray(), "-images-idx3-ubyte.gz", seed: 8, p => _ = new IdxDataset(p, labelsPath).Load(0));
    }

    [Fact]
    public void Pack()
    {
        using var dir = new TempDir();
        var root = dir.File("images");
        for (int i = 0; i < 3; i++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"c{i % 2}"));
            ImageCodec.SavePng(DataTestHelpers.RandomImage(6 + i, 5, i), Path.Combine(root, $"c{i % 2}", $"{i}.png"));
        }
        DatasetPacker.Pack(root, dir.File("p.dcpack"), new PackOptions());
        Fuzz("pack", File.ReadAllBytes(dir.File("p.dcpack")), ".dcpack", seed: 14, p =>
        {
            using var pack = PackedDataset.Open(p);
            for (int i = 0; i < pack.Count; i++) Assert.Contains(p, pack.Describe(i) + pack.Load(i).Width);
        });
    }

    [Fact]
    public void Images()
    {
        var image = DataTestHelpers.RandomImage(12, 10, 9);
        var png = ImageCodec.EncodePng(image);
        Fuzz("png", png, ".png", seed: 10, DecodeImage, isImage: true);
        Fuzz("jpeg", CraftedImages.Jpeg(16, 16), ".jpg", seed: 11, DecodeImage, isImage: true);
        Fuzz("bomb png", CraftedImages.Png(300, 200), ".png", seed: 12, DecodeImage, isImage: true);
        byte[] ppm = [.. "P6\n# c\n12 10\n255\n"u8, .. image.Pixels];
        Fuzz("ppm", ppm, ".ppm", seed: 13, DecodeImage, isImage: true);
    }

    static void DecodeImage(string path)
    {
        var ok = ImageCodec.HasValidHeader(path);
        var img = ImageCodec.Decode(path);
        Assert.True(ok, $"{path} decodes but its header was rejected");
        Assert.True((long)img.Width * img.Height <= ImageCodec.MaxImagePixels);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on truncations of <paramref name="original"/> at many offsets and on
    /// ~250 copies with 1–4 bytes changed at random (half of them in the first 512 bytes, where the headers are).
    /// </summary>
    void Fuzz(string name, byte[] original, string suffix, int seed, Action<string> read, bool isImage = false)
    {
        using var dir = new TempDir();
        var cases = new List<(string What, byte[] Bytes)>();
        var cuts = original.Length <= 400 ? Enumerable.Range(0, original.Length)
            : Enumerable.Range(0, 200).Concat(Enumerable.Range(0, 200).Select(i => (int)((long)original.Length * i / 200))).Distinct();
        foreach (var cut in cuts) cases.Add(($"truncated at {cut}", original[..cut]));
        var rng = new Random(seed);
        for (int i = 0; i < 250; i++)
        {
            var copy = (byte[])original.Clone();
            var changes = new List<string>();
            for (int k = rng.Next(1, 5); k > 0; k--)
            {
                int at = rng.Next(2) == 0 ? rng.Next(Math.Min(512, copy.Length)) : rng.Next(copy.Length);
                copy[at] = rng.Next(4) == 0 ? (byte)(copy[at] ^ (1 << rng.Next(8))) : (byte)rng.Next(256);
                changes.Add($"{at}");
            }
            cases.Add(($"bytes changed at {string.Join(",", changes)}", copy));
        }

        int ok = 0, failed = 0;
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (what, bytes) = cases[i];
            var path = Path.Combine(dir.Path, $"case{i}{suffix}");
            File.WriteAllBytes(path, bytes);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try { read(path); ok++; }
            catch (Exception e) { error = e; failed++; }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            var context = $"{name}, {what}";
            Assert.True(allocated <= AllocationFactor * bytes.Length + AllocationSlack,
                $"{context}: allocated {allocated} bytes reading a file of {bytes.Length}");
            if (error is null) continue;
            var type = error.GetType().Name;
            counts[type] = counts.GetValueOrDefault(type) + 1;
            if (isImage)
            {
                var ide = Assert.IsType<ImageDecodeException>(error);
                Assert.Equal(path, ide.Origin);
            }
            else
            {
                Assert.True(error is InvalidDataException, $"{context}: {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
                Assert.True(error.Message.StartsWith(path, StringComparison.Ordinal), $"{context}: the message does not start with the file: {error.Message}");
            }
            File.Delete(path);
        }
        output.WriteLine($"{name}: {cases.Count} cases, {ok} read, {failed} refused ({string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"))})");
        Assert.True(failed > cases.Count / 2, $"{name}: most damaged files should be refused");
    }

    /// <summary>Tensors a successful read returns hold no more bytes than the file.</summary>
    static void AssertTensorsFit(IEnumerable<Tensor> tensors, string path)
    {
        var bytes = tensors.Sum(t => t.numel() * t.ElementSize);
        Assert.True(bytes <= new FileInfo(path).Length, $"{path}: {bytes} bytes of tensors from a file of {new FileInfo(path).Length}");
    }

    static void WriteBigEndian(byte[] a, int at, int v) => System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(a.AsSpan(at), v);
}

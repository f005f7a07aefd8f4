using DeepCluster.Core.Data;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

/// <summary>`deepcluster pack`'s file: written by <see cref="DatasetPacker"/>, read by <see cref="PackedDataset"/>.</summary>
public class PackedDatasetTests
{
    public PackedDatasetTests() => TorchRuntime.EnsureLoaded();

    /// <summary>(relative path, width, height): JPEGs and PNGs larger and smaller than 256 on the shorter side, wide and
    /// tall, one exactly 256 and one just over, one in a sub-folder; plus a text file ImageFolder ignores.</summary>
    static readonly (string Path, int Width, int Height)[] Files =
    [
        ("bird/a.jpg", 500, 375), ("bird/b.png", 120, 90), ("bird/sub/c.jpg", 300, 600), ("cat/d.png", 257, 256),
        ("cat/e.jpg", 256, 256), ("cat/f.png", 640, 200), ("cat/g.JPEG", 64, 48), ("dog/h.jpg", 90, 700),
    ];

    /// <summary>An ImageFolder of <see cref="Files"/> under <c>dir/images</c>.</summary>
    internal static string MixedFolder(TempDir dir)
    {
        var root = dir.File("images");
        for (int i = 0; i < Files.Length; i++)
        {
            var (path, w, h) = Files[i];
            var file = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var image = RandomImage(w, h, i);
            File.WriteAllBytes(file, path.EndsWith(".png") ? ImageCodec.EncodePng(image) : JpegEncoder.Encode(image, 90));
        }
        File.WriteAllText(Path.Combine(root, "cat", "notes.txt"), "not an image");
        return root;
    }

    /// <summary>What a pack must hold for <paramref name="path"/>: the decoded original, Resize(maxSide) when its shorter side is longer.</summary>
    static RgbImage Expected(string path, int maxSide)
    {
        var decoded = ImageCodec.Decode(path);
        return Math.Min(decoded.Width, decoded.Height) > maxSide ? new Resize(maxSide).Apply(decoded, new SampleRng(0)) : decoded;
    }

    [Theory]
    [InlineData(256)]
    [InlineData(100)]
    public void ARawPackHoldsTheDecodedOriginalsResizedLikeResizeWithImageFoldersLabelsPathsAndClasses(int maxSide)
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        var result = DatasetPacker.Pack(root, dir.File("p.dcpack"), new PackOptions { MaxSide = maxSide, Workers = 2 });
        var folder = new ImageFolder(root);
        using var pack = PackedDataset.Open(dir.File("p.dcpack"));

        Assert.Equal(Files.Length, result.Images);
        Assert.Equal(new FileInfo(dir.File("p.dcpack")).Length, result.Bytes);
        Assert.Equal(folder.Count, pack.Count);
        Assert.Equal(folder.Classes, pack.Classes);
        Assert.Equal(folder.Labels, pack.Labels);
        Assert.Equal(folder.Paths.Select(p => Path.GetRelativePath(root, p)), pack.Paths);
        Assert.Equal(maxSide, pack.MaxSide);
        Assert.Equal(PackEncoding.Rgb, pack.Encoding);
        for (int i = 0; i < pack.Count; i++)
        {
            var expected = Expected(folder.Paths[i], maxSide);
            var got = pack.Load(i);
            Assert.Equal((expected.Width, expected.Height), (got.Width, got.Height));
            Assert.Equal(Math.Min(maxSide, Math.Min(Files.Single(f => folder.Paths[i].EndsWith(f.Path)).Width, Files.Single(f => folder.Paths[i].EndsWith(f.Path)).Height)),
                         Math.Min(got.Width, got.Height));   // never upscaled
            Assert.Equal(expected.Pixels, got.Pixels);
            Assert.Contains(pack.PathOf(i), pack.Describe(i));
        }
    }

    [Fact]
    public void TheLoaderGivesTheSameTensorsFromAPackAsFromTheResizedOriginalsWhateverTheThreads()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        DatasetPacker.Pack(root, dir.File("p.dcpack"), new PackOptions());
        using var pack = PackedDataset.Open(dir.File("p.dcpack"));
        var folder = new ImageFolder(root);
        var reference = new MemoryDataset(folder.Paths.Select(p => Expected(p, 256)).ToArray(), folder.Labels);
        var transform = DeepClusterTransforms.Training(224);
        var order = Enumerable.Range(0, 40).Select(i => (i * 7) % pack.Count).ToArray();
        float[][] Batches(IImageDataset ds, int workers) =>
            ((IEnumerable<Batch>)new BatchLoader(ds, transform, order, 16, workers: workers, seed: 5)).Select(b => { using (b) return b.Images.data<float>().ToArray(); }).ToArray();
        var expected = Batches(reference, 1);
        Assert.Equal(expected, Batches(pack, 1));
        Assert.Equal(expected, Batches(pack, 4));

        // Loads from many threads at once all see their own image.
        var images = Enumerable.Range(0, pack.Count).Select(i => pack.Load(i).Pixels).ToArray();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k => Assert.Equal(images[k % pack.Count], pack.Load(k % pack.Count).Pixels));
    }

    [Fact]
    public void AJpegPackHoldsTheResizedImagesReencodedWithinJpegError()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        DatasetPacker.Pack(root, dir.File("raw.dcpack"), new PackOptions());
        DatasetPacker.Pack(root, dir.File("jpeg.dcpack"), new PackOptions { Encoding = PackEncoding.Jpeg, Quality = 95 });
        using var raw = PackedDataset.Open(dir.File("raw.dcpack"));
        using var jpeg = PackedDataset.Open(dir.File("jpeg.dcpack"));
        Assert.Equal(PackEncoding.Jpeg, jpeg.Encoding);
        Assert.Equal(95, jpeg.Metadata.Quality);
        Assert.True(jpeg.FileLength < raw.FileLength / 3, $"{jpeg.FileLength} vs {raw.FileLength}");
        for (int i = 0; i < raw.Count; i++)
        {
            var (a, b) = (raw.Load(i), jpeg.Load(i));
            Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
            Assert.Equal(TurboJpeg.TryDecode(JpegEncoder.Encode(a, 95), "x")!.Pixels, b.Pixels);   // the resized image, encoded once
            var mean = a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Average();
            Assert.True(mean < 12, $"{raw.PathOf(i)}: mean abs difference {mean}");   // noisy test images: JPEG's error
        }
    }

    [Fact]
    public void DatasetSourceOpensAPackInPlaceOfTheFolderWithTheSameLimitSample()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        var packPath = dir.File("p.dcpack");
        DatasetPacker.Pack(root, packPath, new PackOptions { MaxSide = 1000 });   // nothing resized: same pixels as the folder
        var fromFolder = DatasetSource.Open(root, limit: 5);
        var fromPack = DatasetSource.Open(packPath, limit: 5);
        Assert.IsType<PackedDataset>(DatasetSource.Open(packPath, format: "pack"));
        Assert.Equal(fromFolder.Labels, fromPack.Labels);
        for (int i = 0; i < 5; i++) Assert.Equal(fromFolder.Load(i).Pixels, fromPack.Load(i).Pixels);
        var e = Assert.Throws<ArgumentException>(() => DatasetSource.Open(packPath, format: "imagefolder"));
        Assert.Contains(packPath, e.Message);
        Assert.Contains(root, Assert.Throws<FileNotFoundException>(() => DatasetSource.Open(root, format: "pack")).Message);
    }

    [Fact]
    public void TruncatedForeignOrOtherVersionFilesAreNamedClearly()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        var good = dir.File("p.dcpack");
        DatasetPacker.Pack(root, good, new PackOptions());
        var bytes = File.ReadAllBytes(good);

        string Error(string name, byte[] content)
        {
            var path = dir.File(name);
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<InvalidDataException>(() => PackedDataset.Open(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return e.Message;
        }

        Assert.Contains("truncated pack", Error("cut.dcpack", bytes[..(bytes.Length / 2)]));
        Assert.Contains("truncated pack", Error("head.dcpack", bytes[..20]));
        Assert.Contains("not a deepcluster pack", Error("foreign.dcpack", File.ReadAllBytes(Path.Combine(root, "bird", "b.png"))));
        Assert.Contains("not a deepcluster pack", Error("empty.dcpack", []));
        var v2 = (byte[])bytes.Clone();
        v2[8] = 2;
        Assert.Contains("pack format version 2; this build reads version 1", Error("v2.dcpack", v2));
        var longer = bytes.Concat(new byte[10]).ToArray();
        Assert.Contains("corrupt pack", Error("longer.dcpack", longer));
        // A record whose width no longer matches its length.
        var header = PackFormat.Header.Read(bytes);
        var crafted = (byte[])bytes.Clone();
        crafted[header.RecordsOffset + 28] ^= 1;
        Assert.Contains("record 0", Error("record.dcpack", crafted));
        // Offsets past the records: every claim is checked before anything is read from it.
        var offsets = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(offsets.AsSpan((int)header.RecordsOffset + 40), long.MaxValue - 5);
        Assert.Contains("record 1", Error("offset.dcpack", offsets));
        Assert.Throws<FileNotFoundException>(() => PackedDataset.Open(dir.File("nosuch.dcpack")));
    }

    [Fact]
    public void BadFilesStopThePackNamingThemOrAreSkippedAndListed()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        var jpeg = File.ReadAllBytes(Path.Combine(root, "bird", "a.jpg"));
        File.WriteAllBytes(Path.Combine(root, "bird", "truncated.jpg"), jpeg[..(jpeg.Length / 3)]);
        File.WriteAllText(Path.Combine(root, "cat", "text.png"), "not a png");
        var outPath = dir.File("p.dcpack");

        var e = Assert.Throws<ImageDecodeException>(() => DatasetPacker.Pack(root, outPath, new PackOptions()));
        Assert.Contains(Path.Combine(root, "bird", "truncated.jpg"), e.Message);
        Assert.False(File.Exists(outPath));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*.tmp"));   // the temporary file is gone too

        var result = DatasetPacker.Pack(root, outPath, new PackOptions { SkipBadFiles = true });
        Assert.Equal(Files.Length, result.Images);
        Assert.Equal(new[] { "bird/truncated.jpg", "cat/text.png" }, result.Skipped.Select(s => s.Path).Order());
        using var pack = PackedDataset.Open(outPath);
        Assert.Equal(Files.Length, pack.Count);
        Assert.Equal(new[] { "bird/truncated.jpg", "cat/text.png" }, pack.Metadata.Skipped.Select(s => s.Path).Order());
        Assert.DoesNotContain("bird/truncated.jpg", pack.Paths);
    }

    [Fact]
    public void AnInterruptedPackLeavesNoFileAndAnExistingOneIsReplacedOnlyWithForce()
    {
        using var dir = new TempDir();
        var root = MixedFolder(dir);
        var outPath = dir.File("p.dcpack");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            DatasetPacker.Pack(root, outPath, new PackOptions { Workers = 1 }, _ => cts.Cancel(), cts.Token));
        Assert.False(File.Exists(outPath));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));   // only the image folder: no temporary file left

        File.WriteAllText(outPath, "precious");
        var e = Assert.Throws<IOException>(() => DatasetPacker.Pack(root, outPath, new PackOptions()));
        Assert.Contains("--force", e.Message);
        Assert.Equal("precious", File.ReadAllText(outPath));
        DatasetPacker.Pack(root, outPath, new PackOptions { Force = true });
        using var pack = PackedDataset.Open(outPath);
        Assert.Equal(Files.Length, pack.Count);
    }
}

using System.Reflection;
using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Support;
using Xunit.Abstractions;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

/// <summary>
/// Decompression bombs: tiny files whose headers claim huge images. Before the pixel limit, a PNG or JPEG claiming
/// 23 200² pixels or more overflowed <c>w * h * 4</c> in <c>int</c> and libSkiaSharp wrote past a 64 KiB buffer
/// (the process died with SIGSEGV, even with --skip-bad-files); 20 000² allocated 1.6 GB from a 69-byte file.
/// </summary>
public class ImageBombTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, int> Bombs => new()
    {
        { "png", 30000, 30000 }, { "png", 23200, 23200 }, { "png", 20000, 20000 }, { "png", 46341, 46341 },
        { "jpg", 30000, 30000 }, { "jpg", 23200, 23200 }, { "ppm", 30000, 30000 },
    };

    static byte[] Bomb(string kind, int w, int h) => kind switch
    {
        "png" => CraftedImages.Png(w, h),
        "jpg" => CraftedImages.Jpeg(w, h),
        _ => CraftedImages.Ppm(w, h),
    };

    [Theory]
    [MemberData(nameof(Bombs))]
    public void HugeHeaderIsACleanDecodeErrorNamingFileSizeAndLimit(string kind, int w, int h)
    {
        using var dir = new TempDir();
        var path = dir.File($"bomb.{kind}");
        File.WriteAllBytes(path, Bomb(kind, w, h));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(path));

        output.WriteLine($"{new FileInfo(path).Length} bytes: {e.Message}");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "nothing of the claimed size was allocated");
        Assert.Equal(path, e.Origin);
        Assert.StartsWith(path, e.Message);
        Assert.Contains($"{w}x{h}", e.Message);
        Assert.Contains("89,478,485", e.Message);
        Assert.Contains("max-image-pixels", e.Message);
        Assert.False(ImageCodec.HasValidHeader(path));
        Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(File.ReadAllBytes(path), path));
    }

    [Fact]
    public void The69BytePngIs69Bytes() => Assert.Equal(69, CraftedImages.Png(30000, 30000).Length);

    [Fact]
    public void BombsAreSkippedAndCountedWithSkipBadFiles()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        ImageCodec.SavePng(RandomImage(20, 20, 1), dir.File("a/good.png"));
        ImageCodec.SavePng(RandomImage(20, 20, 2), dir.File("b/good.png"));
        File.WriteAllBytes(dir.File("a/bomb.png"), CraftedImages.Png(30000, 30000));
        File.WriteAllBytes(dir.File("b/bomb.jpg"), CraftedImages.Jpeg(23200, 23200));

        // At the header check, when the folder is opened.
        var skipping = new ImageFolder(dir.Path, skipBadFiles: true);
        Assert.Equal([dir.File("a/bomb.png"), dir.File("b/bomb.jpg")], skipping.SkippedFiles);
        Assert.Equal(2, skipping.Count);

        // And by the loader, for a dataset opened without the header check.
        var ds = new ImageFolder(dir.Path);
        var loader = new BatchLoader(ds, new Compose(new CenterCrop(16), new ToTensor()), null, batchSize: 2, workers: 2, skipBadFiles: true);
        var n = 0;
        foreach (var b in loader) using (b) n += b.Indices.Length;
        Assert.Equal(2, n);
        Assert.Equal(2, loader.SkippedCount);
        Assert.Equal([dir.File("a/bomb.png"), dir.File("b/bomb.jpg")], loader.SkippedFiles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ThePixelLimitIsConfigurable()
    {
        using var dir = new TempDir();
        var path = dir.File("16x16.png");
        ImageCodec.SavePng(RandomImage(16, 16, 3), path);
        Assert.Equal(ImageCodec.DefaultMaxImagePixels, ImageCodec.MaxImagePixels);
        using (new CraftedImages.PixelLimit(255))
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(path));
            Assert.Contains("16x16 = 256 pixels is over the limit of 255", e.Message);
            Assert.NotNull(ImageCodec.HeaderProblem(path));
        }
        using (new CraftedImages.PixelLimit(256)) Assert.Equal(16, ImageCodec.Decode(path).Width);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCodec.MaxImagePixels = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCodec.MaxImagePixels = ImageCodec.MaxSupportedPixels + 1);
        Assert.Equal(ImageCodec.DefaultMaxImagePixels, ImageCodec.MaxImagePixels);
    }

    [Fact]
    public void LargeImagesDoNotLeaveALargeBufferOnTheThread()
    {
        using var dir = new TempDir();
        var path = dir.File("big.png");
        ImageCodec.SavePng(new RgbImage(2100, 2100), path); // 17.6 MB of RGBA, over the 16 MiB a thread keeps

        Exception? failure = null;
        var t = new Thread(() => { try { Body(); } catch (Exception e) { failure = e; } });
        t.Start();
        t.Join();
        Assert.Null(failure);

        void Body()
        {
            Assert.Equal(2100, ImageCodec.Decode(path).Width);
            var kept = (byte[]?)typeof(ImageCodec).GetField("_rgba", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null);
            Assert.True((kept?.Length ?? 0) <= 16 << 20, $"the thread keeps {kept?.Length} bytes");
            var small = ImageCodec.Decode(ImageCodec.EncodePng(RandomImage(20, 20, 4)), "small");
            Assert.Equal(RandomImage(20, 20, 4).Pixels, small.Pixels);
        }
    }
}

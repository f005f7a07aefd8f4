using DeepCluster.Core.Data;
using DeepCluster.Core.Tests.Support;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

public class DatasetSourceTests
{
    /// <summary>Three classes of 5, 4 and 3 tiny PNGs.</summary>
    static TempDir ThreeClasses()
    {
        var dir = new TempDir();
        var sizes = new[] { ("ant", 5), ("bee", 4), ("cat", 3) };
        foreach (var (cls, n) in sizes)
        {
            Directory.CreateDirectory(dir.File(cls));
            for (int i = 0; i < n; i++) ImageCodec.SavePng(RandomImage(6, 6, i), dir.File($"{cls}/{i}.png"));
        }
        return dir;
    }

    [Fact]
    public void LimitOnAnImageFolderIsAClassBalancedSeededSampleInDatasetOrder()
    {
        using var dir = ThreeClasses();
        var all = DatasetSource.Open(dir.Path);

        var six = DatasetSource.Open(dir.Path, limit: 6);
        Assert.Equal(6, six.Count);
        Assert.Equal([2, 2, 2], Enumerable.Range(0, 3).Select(c => six.Labels!.Count(l => l == c)));
        var paths = Enumerable.Range(0, six.Count).Select(six.Describe).ToArray();
        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);                          // dataset (class-major) order
        var allPaths = Enumerable.Range(0, all.Count).Select(all.Describe).ToList();
        for (int i = 0; i < six.Count; i++) Assert.Equal(all.Labels![allPaths.IndexOf(paths[i])], six.Labels![i]);
        Assert.Equal(paths, Enumerable.Range(0, 6).Select(DatasetSource.Open(dir.Path, limit: 6).Describe)); // deterministic
        Assert.Equal(ImageCodec.Decode(paths[3]).Pixels, six.Load(3).Pixels);

        // 10 of 12: the 3-image class gives all it has, the others share the rest.
        var ten = DatasetSource.Open(dir.Path, limit: 10);
        var perClass = Enumerable.Range(0, 3).Select(c => ten.Labels!.Count(l => l == c)).ToArray();
        Assert.Equal(10, perClass.Sum());
        Assert.Equal(3, perClass[2]);
        Assert.True(perClass[0] >= 3 && perClass[1] >= 3);

        // Fewer than the classes: distinct classes.
        var two = DatasetSource.Open(dir.Path, limit: 2);
        Assert.Equal(2, two.Labels!.Distinct().Count());
        Assert.Equal(12, DatasetSource.Open(dir.Path, limit: 50).Count);
    }

    [Fact]
    public void LimitOnAnIdxFolderKeepsTheFirstNInFileOrder()
    {
        using var dir = new TempDir();
        var images = new byte[16 + 30 * 4];
        images[2] = 8; images[3] = 3; images[7] = 30; images[11] = 2; images[15] = 2;
        for (int i = 0; i < 30; i++) images[16 + 4 * i] = (byte)i;
        var labels = new byte[8 + 30];
        labels[2] = 8; labels[3] = 1; labels[7] = 30;
        for (int i = 0; i < 30; i++) labels[8 + i] = (byte)(i / 10); // class-major, so a balanced sample would differ
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), images);
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), labels);

        var ds = DatasetSource.Open(dir.Path, limit: 7);
        Assert.Equal(7, ds.Count);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (byte)i), Enumerable.Range(0, 7).Select(i => ds.Load(i).Pixels[0]));
        Assert.All(ds.Labels!, l => Assert.Equal(0, l));
    }

    [Fact]
    public void FilesSkippedAtTheHeaderCheckAreCountedAndReported()
    {
        using var dir = ThreeClasses();
        Assert.Null(DatasetSource.SkippedReport(DatasetSource.Open(dir.Path, skipBadFiles: true)));
        File.WriteAllText(dir.File("ant/0text.png"), "not an image");
        File.WriteAllBytes(dir.File("bee/bomb.png"), CraftedImages.Png(30000, 30000));
        File.WriteAllBytes(dir.File("cat/empty.jpg"), []);
        File.WriteAllBytes(dir.File("cat/huge.ppm"), CraftedImages.Ppm(40000, 40000));

        var ds = DatasetSource.Open(dir.Path, skipBadFiles: true);
        Assert.Equal(12, ds.Count);
        Assert.Equal([dir.File("ant/0text.png"), dir.File("bee/bomb.png"), dir.File("cat/empty.jpg"), dir.File("cat/huge.ppm")], ds.SkippedFiles);
        Assert.Equal(4, ds.SkipReasons.Count);
        Assert.Contains("over the limit", ds.SkipReasons[1]);
        Assert.Contains("over the limit", ds.SkipReasons[3]);

        var report = DatasetSource.SkippedReport(ds)!;
        Assert.StartsWith("skipped 4 unreadable image files (--skip-bad-files): ", report);
        Assert.Contains(dir.File("ant/0text.png"), report);
        Assert.Contains($"{dir.File("bee/bomb.png")} (30000x30000 = 900,000,000 pixels is over the limit", report);
        Assert.EndsWith("; and 1 more", report);
        Assert.DoesNotContain('\n', report);

        // A --limit sample still reports what the folder skipped.
        Assert.Equal(ds.SkippedFiles, DatasetSource.Open(dir.Path, limit: 4, skipBadFiles: true).SkippedFiles);
    }
}

using System.Diagnostics;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDir();
        var path = dir.File("out.bin");
        AtomicFile.Write(path, s => s.Write([1, 2, 3]));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([9, 9, 9, 9, 9]);
            throw new InvalidOperationException("killed mid-write");
        }));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void StaleTemporariesOfAKilledWriterAreRemoved()
    {
        using var dir = new TempDir();
        var f = new AtomicFile(dir.File("sub/model.pth.tar"));    // never committed nor disposed: as after kill -9
        f.Stream.Write(new byte[100]);
        f.Stream.Flush();
        AtomicFile.Write(dir.File("kept.bin"), s => s.WriteByte(7));
        f.Stream.Dispose();
        Assert.Equal(1, AtomicFile.RemoveStale(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.File("sub")));
        Assert.True(File.Exists(dir.File("kept.bin")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PublishGivesTheSourceContentAndOutlivesTheSourceBeingReplaced(bool hardLink)
    {
        using var dir = new TempDir();
        var source = dir.File("work/model_end.pth.tar");
        var published = dir.File("checkpoint.pth.tar");
        var first = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();
        AtomicFile.Write(source, s => s.Write(first));
        AtomicFile.Write(published, s => s.Write([1]));             // an older checkpoint is replaced

        AtomicFile.Publish(source, published, hardLink);

        Assert.Equal(first, File.ReadAllBytes(published));
        Assert.Equal(hardLink ? 2 : 1, LinkCount(published));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp"));
        // The source is replaced by rename (as every writer here does) and then deleted: the published file keeps its bytes.
        AtomicFile.Write(source, s => s.Write([5, 6]));
        File.Delete(source);
        Assert.Equal(first, File.ReadAllBytes(published));
    }

    [Fact]
    public void PublishingAMissingSourceNamesItAndChangesNothing()
    {
        using var dir = new TempDir();
        var published = dir.File("checkpoint.pth.tar");
        AtomicFile.Write(published, s => s.Write([4]));
        var e = Assert.Throws<FileNotFoundException>(() => AtomicFile.Publish(dir.File("nope.pth.tar"), published));
        Assert.Contains("nope.pth.tar", e.Message);
        Assert.Equal(new byte[] { 4 }, File.ReadAllBytes(published));
    }

    static int LinkCount(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", ["-c", "%h", path]) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return int.Parse(text.Trim());
    }
}

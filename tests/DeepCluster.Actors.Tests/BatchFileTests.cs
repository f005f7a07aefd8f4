using System.Runtime.InteropServices;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>A batch file gives back exactly what was written; a damaged one is refused, naming it.</summary>
public sealed class BatchFileTests
{
    [Fact]
    public void RoundTripsTheBatchBitForBitAndRefusesAFileCutShort()
    {
        using var dir = new TempDir();
        var path = dir.File("b.batch");
        var images = Enumerable.Range(0, 2 * 3 * 4 * 5).Select(i => i * 0.1f - 3).ToArray();
        images[7] = -0f;
        images[8] = float.NaN;
        BatchFile.Write(path, 42, MemoryMarshal.AsBytes(images.AsSpan()), [2, 3, 4, 5], [7, -1], [11, 3]);
        var c = BatchFile.Read(path);
        Assert.Equal(42, c.Number);
        Assert.Equal([2, 3, 4, 5], c.Shape);
        Assert.Equal([7, -1], c.Labels);
        Assert.Equal([11, 3], c.Indices);
        Assert.True(MemoryMarshal.AsBytes(images.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(c.Images.AsSpan())));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*.tmp"));

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        Assert.Equal($"{path}: {bytes.Length - 4} bytes for a batch of shape [2,3,4,5] (cut short?)",
                     Assert.Throws<InvalidDataException>(() => BatchFile.Read(path)).Message);
        File.WriteAllText(path, "not a batch at all");
        Assert.Equal($"{path}: not a batch file", Assert.Throws<InvalidDataException>(() => BatchFile.Read(path)).Message);
    }
}

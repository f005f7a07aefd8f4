using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.IO;

/// <summary>
/// The run's clusters log kept in memory between epochs: what it wrote is read back without unpickling the file again;
/// a file changed, replaced or removed outside it is read (or missed) as the file now is; callers cannot change what it keeps.
/// </summary>
public class ClustersLogCacheTests
{
    static int[][] Epoch(int seed, int k = 3, int n = 12)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, k).Select(c => Enumerable.Range(0, n).Where(i => rng.Next(k) == c).ToArray()).ToArray();
    }

    static void AssertSame(IReadOnlyList<int[][]> expected, IReadOnlyList<int[][]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int e = 0; e < expected.Count; e++) Assert.Equal(expected[e], actual[e]);
    }

    [Fact]
    public void WhatItWroteIsReadBackFromMemoryAndEqualsTheFile()
    {
        using var dir = new TempDir();
        var cache = new ClustersLogCache(dir.File("clusters"));
        Assert.Empty(cache.Read());
        var log = new List<int[][]> { Epoch(1) };
        for (int epoch = 2; epoch <= 4; epoch++)
        {
            cache.Write(log);
            var read = cache.Read();
            AssertSame(log, read);
            AssertSame(log, ClustersLog.Read(dir.File("clusters")));       // the file holds the same
            read.Add(Epoch(epoch));
            log = read;
        }
        Assert.Equal(0, cache.DiskReads);
    }

    [Fact]
    public void AFileWrittenOutsideIsReadAgainAndARemovedOneIsEmpty()
    {
        using var dir = new TempDir();
        var path = dir.File("clusters");
        var mine = new List<int[][]> { Epoch(1), Epoch(2) };
        var cache = new ClustersLogCache(path);
        cache.Write(mine);

        // A resume by another process, or a repair by hand: one epoch fewer, so another length.
        var theirs = new List<int[][]> { Epoch(3, n: 30) };
        ClustersLog.Write(path, theirs);
        AssertSame(theirs, cache.Read());
        AssertSame(theirs, cache.Read());
        Assert.Equal(1, cache.DiskReads);

        File.Delete(path);
        Assert.Empty(cache.Read());
        cache.Write(mine);
        AssertSame(mine, new ClustersLogCache(path).Read());                // a fresh cache reads the file
    }

    [Fact]
    public void ChangingTheReturnedListDoesNotChangeWhatIsKept()
    {
        using var dir = new TempDir();
        var cache = new ClustersLogCache(dir.File("clusters"));
        var log = new List<int[][]> { Epoch(1), Epoch(2) };
        cache.Write(log);
        log.RemoveAt(1);                                                    // the caller's list, after the write
        var read = cache.Read();
        read.Add(Epoch(5));
        Assert.Equal(2, cache.Read().Count);
        Assert.Equal(0, cache.DiskReads);
    }

    [Fact]
    public void ADamagedFileIsNamed()
    {
        using var dir = new TempDir();
        var path = dir.File("clusters");
        File.WriteAllText(path, "not a pickle");
        var e = Assert.Throws<InvalidDataException>(() => new ClustersLogCache(path).Read());
        Assert.StartsWith(path, e.Message);
    }
}

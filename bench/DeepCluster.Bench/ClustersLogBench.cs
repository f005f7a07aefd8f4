using System.Diagnostics;
using DeepCluster.Core.IO;

/// <summary>
/// The end of an epoch's clusters-log work at a given scale: `dcbench clusterslog EPOCHS IMAGES K` writes a log of EPOCHS
/// epochs of IMAGES indices in K clusters, then times what an epoch's end used to do (unpickle the whole log, append,
/// write it) against what it does with <see cref="ClustersLogCache"/> (append in memory, write).
/// </summary>
static class ClustersLogBench
{
    public static int Run(string[] args)
    {
        int epochs = int.Parse(args[0]), images = int.Parse(args[1]), k = int.Parse(args[2]);
        var path = Path.Combine(Directory.CreateTempSubdirectory("dc-clusterslog-").FullName, "clusters");
        var rng = new Random(0);
        int[][] Epoch()
        {
            var lists = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
            for (int i = 0; i < images; i++) lists[rng.Next(k)].Add(i);
            return lists.Select(l => l.ToArray()).ToArray();
        }
        var log = Enumerable.Range(0, epochs).Select(_ => Epoch()).ToList();
        var cache = new ClustersLogCache(path);
        cache.Write(log);
        var next = Epoch();
        Console.WriteLine($"clusters log: {epochs} epochs × {images} images in {k} clusters, {new FileInfo(path).Length / 1e6:F1} MB");

        var clock = Stopwatch.StartNew();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var read = ClustersLog.Read(path).ToList();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var readSeconds = clock.Elapsed.TotalSeconds;
        read.Add(next);
        clock.Restart();
        ClustersLog.Write(path, read);
        var writeSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"read whole log: {readSeconds:F2} s ({allocated / 1e6:F0} MB allocated); write: {writeSeconds:F2} s");

        cache = new ClustersLogCache(path);
        cache.Read();                                  // a run's first epoch end (or a resume) reads it once
        clock.Restart();
        var kept = cache.Read();
        kept.Add(next);
        cache.Write(kept);
        Console.WriteLine($"cached: {clock.Elapsed.TotalSeconds:F2} s per epoch end ({cache.DiskReads} read of the file in all)");
        Directory.Delete(Path.GetDirectoryName(path)!, true);
        return 0;
    }
}

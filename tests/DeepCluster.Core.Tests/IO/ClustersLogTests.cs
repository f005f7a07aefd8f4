using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.IO;

public class ClustersLogTests
{
    static int[][][] SampleLog(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, 3).Select(_ =>
        {
            var clusters = Enumerable.Range(0, 4).Select(_ => new List<int>()).ToArray();
            foreach (var i in Enumerable.Range(0, 3000)) clusters[rng.Next(4)].Add(i * 1000); // big ints too
            clusters[3].Clear();                                                              // an empty cluster
            return clusters.Select(c => c.ToArray()).ToArray();
        }).ToArray();
    }

    const string Dump = """
        import sys, pickle, json
        with open(sys.argv[1], 'rb') as f:
            log = pickle.load(f)
        assert type(log) is list and all(type(e) is list and all(type(c) is list and all(type(i) is int for i in c) for c in e) for e in log)
        print(json.dumps(log))
        """;

    [Fact]
    public void PythonPickleLoadsOurLog()
    {
        using var dir = new TempDir();
        var log = SampleLog(1);
        ClustersLog.Write(dir.File("clusters"), log);
        var json = PythonPeer.Run(Dump, dir.File("clusters"));
        Assert.Equal(log, System.Text.Json.JsonSerializer.Deserialize<int[][][]>(json));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WeReadPythonsLog()
    {
        using var dir = new TempDir();
        var json = PythonPeer.Run("""
            import sys, pickle, json, random
            random.seed(3)
            log = [[[random.randrange(10**7) for _ in range(random.randrange(0, 2500))] for _ in range(5)] for _ in range(2)]
            with open(sys.argv[1], 'wb') as f:
                pickle.dump(log, f)
            with open(sys.argv[2], 'wb') as f:
                pickle.dump(log, f, protocol=2)
            print(json.dumps(log))
            """, dir.File("clusters"), dir.File("clusters2"));
        var expected = System.Text.Json.JsonSerializer.Deserialize<int[][][]>(json);
        Assert.Equal(expected, ClustersLog.Read(dir.File("clusters")));
        Assert.Equal(expected, ClustersLog.Read(dir.File("clusters2")));
    }

    [Fact]
    public void OurLogRoundTrips()
    {
        using var dir = new TempDir();
        var log = SampleLog(2);
        ClustersLog.Write(dir.File("c"), log);
        Assert.Equal(log, ClustersLog.Read(dir.File("c")));
    }

    [Fact]
    public void EmptyLogAndEmptyClustersStayLists()
    {
        using var dir = new TempDir();
        ClustersLog.Write(dir.File("c"), new int[][][] { [[], [7]] });
        Assert.Equal("[[[], [7]]]", PythonPeer.Run(Dump, dir.File("c")).Trim());
        ClustersLog.Write(dir.File("c"), Array.Empty<int[][]>());
        Assert.Equal("[]", PythonPeer.Run(Dump, dir.File("c")).Trim());
    }

    [Fact]
    public void GarbageGivesAnErrorNamingTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("c"), [0x80, 0x02, 0x5d, 0x71]);
        var e = Assert.Throws<InvalidDataException>(() => ClustersLog.Read(dir.File("c")));
        Assert.Contains(dir.File("c"), e.Message);
        PythonPeer.Run("import sys, pickle; pickle.dump([[['x']]], open(sys.argv[1], 'wb'))", dir.File("c"));
        e = Assert.Throws<InvalidDataException>(() => ClustersLog.Read(dir.File("c")));
        Assert.Contains(dir.File("c"), e.Message);
    }
}

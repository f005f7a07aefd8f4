using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Evaluation;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Export;

/// <summary>`deepcluster assignments`: an experiment's clusters log as (image path, cluster index) tuples Python loads.</summary>
[Collection("Console")]
public class AssignmentsCommandTests
{
    /// <summary>
    /// An experiment folder as `train` leaves it after epochs 0..2: config.json naming an ImageFolder of 30 images,
    /// metrics.jsonl, and the clusters log (5 clusters an epoch, drawn at random; one empty).
    /// </summary>
    static (string Exp, string Data, int[][][] Log) Experiment(TempDir dir, int startEpoch = 0)
    {
        EvalFixtures.ImageFolder(dir.File("data"), classes: 3, trainPerClass: 10, valPerClass: 1);
        var data = dir.File("data/train");
        var exp = dir.File("exp");
        var folder = new ExperimentFolder(exp);
        folder.CreateLayout();
        folder.WriteConfig(new TrainConfig { Data = data, Exp = exp, Arch = "alexnet_small", NmbCluster = 5, StartEpoch = startEpoch });
        var rng = new Random(4);
        var log = Enumerable.Range(0, 3).Select(_ =>
        {
            var lists = Enumerable.Range(0, 5).Select(_ => new List<int>()).ToArray();
            foreach (var i in Enumerable.Range(0, 30).OrderBy(_ => rng.Next())) lists[rng.Next(4)].Add(i);   // cluster 4 stays empty
            return lists.Select(l => l.ToArray()).ToArray();
        }).ToArray();
        ClustersLog.Write(folder.ClustersPath, log);
        folder.WriteMetrics(Enumerable.Range(startEpoch, 3).Select(e => new EpochMetrics { Epoch = e }));
        return (exp, data, log);
    }

    /// <summary>The pickle as Python reads it: one "path\tcluster" line per tuple, after checking the types.</summary>
    static string[] Load(string pickle) => PythonPeer.Run("""
        import sys, pickle
        a = pickle.load(open(sys.argv[1], "rb"))
        assert type(a) is list and all(type(t) is tuple and len(t) == 2 and type(t[0]) is str and type(t[1]) is int for t in a)
        for p, c in a: print(p + "\t" + str(c))
        """, pickle).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    static string[] Expected(string data, int[][] clusters)
    {
        var paths = new ImageFolder(data).Paths;
        var cluster = new int[paths.Count];
        for (int c = 0; c < clusters.Length; c++) foreach (var i in clusters[c]) cluster[i] = c;
        return paths.Select((p, i) => $"{p}\t{cluster[i]}").ToArray();
    }

    [Fact]
    public void ThePickleHoldsEachImagesPathAndClusterOfTheLastEpoch()
    {
        using var dir = new TempDir();
        var (exp, data, log) = Experiment(dir);
        var (code, stdout, err) = CliInProcess.Run("assignments", exp, "--out", dir.File("a.pickle"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("epoch 2, 30 (image path, cluster) tuples in 5 clusters", stdout);
        Assert.Equal(Expected(data, log[2]), Load(dir.File("a.pickle")));

        Assert.Equal(0, CliInProcess.Run("assignments", exp, "--epoch", "1", "--out", dir.File("e1.pickle")).Code);
        Assert.Equal(Expected(data, log[1]), Load(dir.File("e1.pickle")));
    }

    [Fact]
    public void EpochsCountFromTheFirstLogged()
    {
        using var dir = new TempDir();
        var (exp, data, log) = Experiment(dir, startEpoch: 10);
        Assert.Equal(0, CliInProcess.Run("assignments", exp, "--epoch", "10", "--out", dir.File("a.pickle")).Code);
        Assert.Equal(Expected(data, log[0]), Load(dir.File("a.pickle")));
        var (code, _, err) = CliInProcess.Run("assignments", exp, "--epoch", "0", "--out", dir.File("b.pickle"));
        Assert.Equal(2, code);
        Assert.Contains("--epoch 0:", err);
        Assert.Contains("epochs 10..12", err);
    }

    [Fact]
    public void AMovedDatasetIsGivenWithData()
    {
        using var dir = new TempDir();
        var (exp, data, log) = Experiment(dir);
        var moved = dir.File("moved");
        Directory.Move(data, moved);
        var (code, _, err) = CliInProcess.Run("assignments", exp, "--out", dir.File("a.pickle"));
        Assert.Equal(2, code);
        Assert.Contains("--data", err);
        Assert.Equal(0, CliInProcess.Run("assignments", exp, "--data", moved, "--out", dir.File("a.pickle")).Code);
        Assert.Equal(Expected(moved, log[2]), Load(dir.File("a.pickle")));
    }

    [Theory]
    [InlineData("unknown-epoch", "--epoch 7: ")]
    [InlineData("not-an-experiment", "not an experiment folder")]
    [InlineData("no-folder", "no such folder")]
    [InlineData("no-clusters", "no clusters log yet")]
    [InlineData("smaller-dataset", "has 3 images")]
    public void BadInputIsOneLine(string kind, string expected)
    {
        using var dir = new TempDir();
        var (exp, _, _) = Experiment(dir);
        string[] extra = [];
        switch (kind)
        {
            case "unknown-epoch": extra = ["--epoch", "7"]; break;
            case "not-an-experiment": exp = dir.File("data"); break;
            case "no-folder": exp = dir.File("nowhere"); break;
            case "no-clusters": File.Delete(Path.Combine(exp, "clusters")); break;
            case "smaller-dataset": extra = ["--data", dir.File("data/val")]; break;
        }
        var (code, stdout, err) = CliInProcess.Run(["assignments", exp, "--out", dir.File("a.pickle"), .. extra]);
        CliErrors.AssertOneLine(code, stdout, err, expected);
        Assert.False(File.Exists(dir.File("a.pickle")));
    }
}

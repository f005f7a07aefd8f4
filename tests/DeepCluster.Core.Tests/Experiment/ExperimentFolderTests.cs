using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Experiment;

public class ExperimentFolderTests
{
    [Fact]
    public void ConfigRoundTripsAndAnotherConfigurationIsRefusedByFlag()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        var cfg = new TrainConfig { Data = dir.Path, Exp = folder.Root, Arch = "alexnet_small", Sobel = true, NmbCluster = 100, Limit = 10000 };
        folder.CreateLayout();
        folder.WriteConfig(cfg);
        Assert.Equal(cfg, folder.ReadConfig());
        // Same results with more epochs or other workers: fine; those are run settings.
        folder.CheckCompatible(cfg with { Epochs = 500, Workers = 1, Verbose = true, SkipBadFiles = true, Device = "cpu", Checkpoints = 7 });
        var e = Assert.Throws<ExperimentMismatchException>(() => folder.CheckCompatible(cfg with { NmbCluster = 10, Lr = 0.01 }));
        Assert.Contains("--nmb_cluster 100 (folder) vs 10 (now)", e.Message);
        Assert.Contains("--lr 0.05 (folder) vs 0.01 (now)", e.Message);
        Assert.Contains("deepcluster resume", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ResumeAndStartEpochCountOnlyWhenGiven()
    {
        var cfg = new TrainConfig { Data = "/d", Exp = "/e", Resume = "/ck/a.pth.tar" };
        Assert.Empty(cfg.ResultDifferences(cfg with { Resume = null }));
        Assert.Contains("--resume /ck/a.pth.tar (folder) vs /ck/b.pth.tar (now)", Assert.Single(cfg.ResultDifferences(cfg with { Resume = "/ck/b.pth.tar" })));
        Assert.Contains("--start_epoch 0 (folder) vs 3 (now)", Assert.Single(cfg.ResultDifferences(cfg with { StartEpoch = 3 })));
        Assert.Equal(["--workers 2 (was 4)", "--skip-bad-files on (was off)"],
            cfg.Settings().ChangesTo((cfg with { Workers = 2, SkipBadFiles = true }).Settings()));
    }

    [Fact]
    public void PathsAreRecordedRelativeToTheFolder()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        Assert.Equal(Path.Combine("work", "epoch_0003", "features.npy"), folder.Relative(folder.FeaturesPath(3)));
        var moved = new ExperimentFolder(dir.File("moved"));
        Assert.Equal(moved.FeaturesPath(3), moved.Resolve(folder.Relative(folder.FeaturesPath(3))));
    }

    [Fact]
    public void AnArtifactNoticesAMissingTruncatedOrChangedFile()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.Path);
        var path = folder.FeaturesPath(0);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, bytes);
        var a = Artifact.Of(folder, path);
        Assert.Equal((Path.Combine("work", "epoch_0000", "features.npy"), 5000L), (a.Path, a.Size));
        Assert.Null(a.Problem(folder));
        bytes[4321] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("checksum", a.Problem(folder));
        File.WriteAllBytes(path, bytes[..100]);
        Assert.Contains("100 bytes, the journal recorded 5000", a.Problem(folder));
        File.Delete(path);
        Assert.Equal("missing", a.Problem(folder));
    }

    [Fact]
    public void ResultsAreFoundAndMovedAsideWhole()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        folder.CreateLayout();
        Assert.Empty(folder.ResultFiles());
        File.WriteAllText(folder.MetricsPath, "{}\n");
        Directory.CreateDirectory(folder.EpochDir(5));
        File.WriteAllText(folder.LockPath, "1");
        Assert.Equal(["metrics.jsonl"], folder.ResultFiles());   // work/ has only an empty sub-folder
        Directory.CreateDirectory(folder.EpochDir(0));
        File.WriteAllText(folder.FeaturesPath(0), "f");
        Assert.Equal(["metrics.jsonl", "work/"], folder.ResultFiles());
        var aside = folder.MoveAside();
        Assert.Empty(folder.ResultFiles());
        Assert.True(File.Exists(folder.LockPath));
        Assert.True(File.Exists(Path.Combine(aside, "metrics.jsonl")));
        Assert.True(File.Exists(Path.Combine(aside, "work", "epoch_0000", "features.npy")));
    }

    [Fact]
    public void MetricsAreOneJsonLinePerEpoch()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.Path);
        folder.WriteMetrics([new EpochMetrics { Epoch = 0, ConvnetLoss = 4.5 }, new EpochMetrics { Epoch = 1, NmiPrevious = 0.6 }]);
        var lines = File.ReadAllLines(folder.MetricsPath);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"convnet_loss\":4.5", lines[0]);
        Assert.Contains("\"nmi_previous\":0.6", lines[1]);
        Assert.Equal(new[] { 0, 1 }, folder.ReadMetrics().Select(m => m.Epoch));
    }

    [Fact]
    public void PruneRemovesOnlyEarlierEpochs()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.Path);
        foreach (var e in new[] { 0, 1, 2 }) Directory.CreateDirectory(folder.EpochDir(e));
        folder.PruneWork(2);
        Assert.False(Directory.Exists(folder.EpochDir(0)));
        Assert.False(Directory.Exists(folder.EpochDir(1)));
        Assert.True(Directory.Exists(folder.EpochDir(2)));
    }

    [Fact]
    public void ValidationNamesTheFlag()
    {
        var cfg = new TrainConfig { Data = "d", Exp = "e" };
        Assert.Contains("--nmb_cluster 0", Assert.Throws<ArgumentException>(() => (cfg with { NmbCluster = 0 }).Validate()).Message);
        Assert.Contains("--arch resnet", Assert.Throws<ArgumentException>(() => (cfg with { Arch = "resnet" }).Validate()).Message);
        Assert.Contains("--clustering kmeans", Assert.Throws<ArgumentException>(() => (cfg with { Clustering = "kmeans" }).Validate()).Message);
        cfg.Validate();
    }
}

using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Core.Tests.Experiment;

public class ExperimentFolderTests
{
    [Fact]
    public void ConfigRoundTripsAndAnotherConfigurationIsRefusedByName()
    {
        using var dir = new TempDir();
        var folder = new ExperimentFolder(dir.File("exp"));
        var cfg = new TrainConfig { Data = dir.Path, Exp = folder.Root, Arch = "alexnet_small", Sobel = true, NmbCluster = 100, Limit = 10000 };
        folder.Prepare(cfg);
        Assert.Equal(cfg, folder.ReadConfig());
        // Same identity with more epochs or other workers: fine.
        folder.Prepare(cfg with { Epochs = 500, Workers = 1, Verbose = true });
        var e = Assert.Throws<ExperimentMismatchException>(() => folder.Prepare(cfg with { NmbCluster = 10, Lr = 0.01 }));
        Assert.Contains("nmb_cluster: 100 (folder) vs 10 (now)", e.Message);
        Assert.Contains("lr:", e.Message);
        Assert.Equal(500, folder.ReadConfig()!.Epochs);
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

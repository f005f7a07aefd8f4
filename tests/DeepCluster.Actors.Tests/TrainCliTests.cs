using DeepCluster.Actors.Hosting;
using DeepCluster.Cli;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>`deepcluster train` in-process: a short real run, and every kind of bad input the issue names.</summary>
[Collection("console")]
public class TrainCliTests
{
    internal static string[] Small(string exp, params string[] extra) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "8", "--epochs", "2", "--batch", "64",
        "--limit", "512", "--checkpoints", "3", "--workers", "2", "--exp", exp, "--device", "cpu", "--pca", "32", .. extra,
    ];

    internal static (int Code, string Out, string Err) Run(params string[] args) => Run(null, args);

    /// <summary>The CLI in this process, its console captured; <paramref name="pipeline"/> substitutes pipeline actors.</summary>
    internal static (int Code, string Out, string Err) Run(PipelineProps? pipeline, params string[] args)
        => CliInProcess.Run(() => Cli.Cli.RunAsync(args, pipeline));

    [Fact]
    public void ShortRunWritesThePublishedOutputsAndContinuesForMoreEpochs()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = Run(Small(exp));
        Assert.True(code == 0, output + err);
        var folder = new ExperimentFolder(exp);
        Assert.Equal(new[] { 0, 1 }, folder.ReadMetrics().Select(m => m.Epoch));
        Assert.True(File.Exists(folder.CheckpointPath));
        Assert.True(File.Exists(folder.ClustersPath));
        Assert.True(File.Exists(folder.IterationCheckpoint(0)));
        Assert.Contains("epoch 1", File.ReadAllText(folder.LogPath));

        // Same folder, more epochs: continues at epoch 2, keeps the first two.
        (code, output, err) = Run(Small(exp).Select(a => a == "2" ? "3" : a).ToArray());
        Assert.True(code == 0, output + err);
        Assert.Equal(new[] { 0, 1, 2 }, folder.ReadMetrics().Select(m => m.Epoch));

        // `resume EXP` needs only the folder: its saved configuration, here with one more epoch.
        (code, output, err) = Run("resume", exp, "--epochs", "4");
        Assert.True(code == 0, output + err);
        Assert.Equal(new[] { 0, 1, 2, 3 }, folder.ReadMetrics().Select(m => m.Epoch));
    }

    [Fact]
    public void StartEpochNumbersTheEpochsOfANewExperiment()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var (code, output, err) = Run(Small(exp, "--start_epoch", "5").Select(a => a == "2" ? "6" : a).ToArray());
        Assert.True(code == 0, output + err);
        Assert.Equal(new[] { 5 }, new ExperimentFolder(exp).ReadMetrics().Select(m => m.Epoch));
    }

    [Fact]
    public void ResumeFromACheckpointStartsAtItsEpochWithoutItsHead()
    {
        using var dir = new TempDir();
        var first = dir.File("first");
        var (code, output, err) = Run(Small(first).Select(a => a == "2" ? "1" : a).ToArray());
        Assert.True(code == 0, output + err);
        // A new experiment from that checkpoint (main.py's --resume): starts at the stored epoch (1), runs to --epochs.
        var second = dir.File("second");
        (code, output, err) = Run(Small(second, "--resume", Path.Combine(first, "checkpoint.pth.tar")).Select(a => a == "8" ? "6" : a).ToArray());
        Assert.True(code == 0, output + err);
        Assert.Equal(new[] { 1 }, new ExperimentFolder(second).ReadMetrics().Select(m => m.Epoch));
    }

    /// <summary>
    /// A file like the released models (legacy format, <c>features.module.*</c> keys, a head of another k, no
    /// <c>optimizer</c>: the published main.py's resume fails on it) starts a run at its epoch; without --sobel the
    /// run is refused by one line that says so.
    /// </summary>
    [Fact]
    public void ResumeFromAReleasedStyleCheckpointWithoutOptimizer()
    {
        using var dir = new TempDir();
        PythonPeer.Run(PythonModels.Preamble + """
            d = sys.argv[1]
            torch.manual_seed(6)
            m = ARCHS['alexnet_small'](sobel=True, out=13)
            m.features = torch.nn.DataParallel(m.features)
            torch.save({'epoch': 1, 'arch': 'alexnet_small', 'state_dict': m.state_dict()}, d + '/released.pth.tar',
                       _use_new_zipfile_serialization=False)
            """, dir.Path);
        var released = dir.File("released.pth.tar");
        var exp = dir.File("exp");
        var (code, output, err) = Run(Small(exp, "--resume", released));
        Assert.True(code == 0, output + err);
        Assert.Equal(new[] { 1 }, new ExperimentFolder(exp).ReadMetrics().Select(m => m.Epoch));

        (code, output, err) = Run(Small(dir.File("plain"), "--resume", released).Where(a => a != "--sobel").ToArray());
        CliErrors.AssertOneLine(code, output, err, "--sobel");
    }

    [Fact]
    public void TrainsOnAnImageFolderOfPngs()
    {
        using var dir = new TempDir();
        var images = dir.File("images");
        var idx = DeepCluster.Core.Data.IdxDataset.FromFolder(CliProcess.FashionMnist, "train", limit: 200);
        idx.ExportImageFolder(images);
        var exp = dir.File("exp");
        var (code, output, err) = Run("train", images, "--arch", "alexnet_small", "--k", "5", "--epochs", "1", "--batch", "50",
            "--exp", exp, "--device", "cpu", "--pca", "16", "--workers", "2");
        Assert.True(code == 0, output + err);
        var m = Assert.Single(new ExperimentFolder(exp).ReadMetrics());
        Assert.NotNull(m.NmiLabels);                            // the class folders are the true labels
    }

    [Fact]
    public void ATruncatedImageStopsTheRunByNameOrIsSkippedWhenAsked()
    {
        using var dir = new TempDir();
        var images = dir.File("images");
        DeepCluster.Core.Data.IdxDataset.FromFolder(CliProcess.FashionMnist, "train", limit: 120).ExportImageFolder(images);
        var bad = Directory.GetFiles(images, "*.png", SearchOption.AllDirectories).Order().ElementAt(37);
        var bytes = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, bytes[..(bytes.Length / 2)]);           // valid header, truncated data
        string[] Args(string exp, params string[] extra) =>
            ["train", images, "--arch", "alexnet_small", "--k", "4", "--epochs", "1", "--batch", "32", "--exp", exp,
             "--device", "cpu", "--pca", "8", .. extra];

        var (code, output, err) = Run(Args(dir.File("strict")));
        Assert.Equal(2, code);
        Assert.Contains(Path.GetFileName(bad), err);

        (code, output, err) = Run(Args(dir.File("skip"), "--skip-bad-files"));
        Assert.True(code == 0, output + err);
        Assert.Contains("1 unreadable image(s) skipped", File.ReadAllText(new ExperimentFolder(dir.File("skip")).LogPath));
        Assert.Single(new ExperimentFolder(dir.File("skip")).ReadMetrics());
    }

    [Fact]
    public void MissingDatasetIsAClearError()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("train", dir.File("nowhere"), "--exp", dir.File("exp"));
        Assert.Equal(2, code);
        Assert.Contains("nowhere", err);
        Assert.False(Directory.Exists(dir.File("exp")));
    }

    [Fact]
    public void EmptyDatasetIsAClearError()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("empty"));
        var (code, _, err) = Run("train", dir.File("empty"), "--exp", dir.File("exp"));
        Assert.Equal(2, code);
        Assert.Contains("empty", err);
    }

    [Fact]
    public void MoreClustersThanImagesIsRefused()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run(Small(dir.File("exp")).Select(a => a == "8" ? "100000" : a).ToArray());
        Assert.Equal(2, code);
        Assert.Contains("--nmb_cluster 100000", err);
    }

    [Fact]
    public void ResumeFromAMissingCheckpointIsRefused()
    {
        using var dir = new TempDir();
        var (code, _, err) = Run(Small(dir.File("exp"), "--resume", dir.File("none.pth.tar")));
        Assert.Equal(2, code);
        Assert.Contains("--resume", err);
    }

    [Fact]
    public void ResumeFromAnotherArchitectureIsRefused()
    {
        using var dir = new TempDir();
        var ck = dir.File("vgg.pth.tar");
        using (var model = DeepCluster.Core.Models.ModelFactory.Create("alexnet", sobel: false, numClasses: 0))
        using (var opt = TorchSharp.torch.optim.SGD(model.TrunkParameters(), 0.1, 0.9))
            DeepCluster.Core.Training.ModelFiles.Save(ck, model, opt, 3, "alexnet");
        var (code, _, err) = Run(Small(dir.File("exp"), "--resume", ck));
        Assert.Equal(2, code);
        Assert.Contains("alexnet", err);
        Assert.Contains("alexnet_small", err);
    }

    [Fact]
    public void AFolderOfAnotherConfigurationIsLeftUntouched()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var folder = new ExperimentFolder(exp);
        folder.CreateLayout();
        folder.WriteConfig(new TrainConfig { Data = CliProcess.FashionMnist, Exp = exp, Arch = "alexnet_small", NmbCluster = 5, Limit = 512 });
        var before = Directory.GetFiles(exp, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        var (code, _, err) = Run(Small(exp));
        Assert.Equal(2, code);
        Assert.Contains("nmb_cluster", err);
        var after = Directory.GetFiles(exp, "*", SearchOption.AllDirectories);
        Assert.Equal(before.Keys.Order(), after.Order());
        foreach (var f in after) Assert.Equal(before[f], File.ReadAllBytes(f));
    }

    [Fact]
    public void ALockedExperimentIsRefused()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        Directory.CreateDirectory(exp);
        using var held = FolderLock.Acquire(new ExperimentFolder(exp));
        var (code, _, err) = Run(Small(exp));
        Assert.Equal(2, code);
        Assert.Contains("in use", err);
    }

    [Fact]
    public void HelpReadsLikeThePublishedUsage()
    {
        var (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        foreach (var flag in new[] { "--arch", "-a", "--sobel", "--clustering", "--nmb_cluster", "--k", "--lr", "--wd", "--reassign",
                                     "--workers", "--epochs", "--start_epoch", "--batch", "--momentum", "--resume", "--checkpoints",
                                     "--seed", "--exp", "--verbose", "--device", "--config" })
            Assert.Contains(flag, output);
        Assert.Contains("number of cluster for k-means (default: 10000)", output);
        Assert.DoesNotContain("[default:", output);                 // each default printed once, as main.py's help
        Assert.Single(output.Split('\n'), l => l.Contains("(default: 0.05)"));
    }
}

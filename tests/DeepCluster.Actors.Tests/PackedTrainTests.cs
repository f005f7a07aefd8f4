using DeepCluster.Core.Data;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>`train` reads a pack of `deepcluster pack` in place of the ImageFolder it was made from.</summary>
[Collection("console")]
public class PackedTrainTests
{
    [Fact]
    public void TrainingOnAPackGivesTheSameRunAsTrainingOnItsFolder()
    {
        using var dir = new TempDir();
        var images = dir.File("images");
        IdxDataset.FromFolder(CliProcess.FashionMnist, "train", limit: 160).ExportImageFolder(images);
        var pack = dir.File("train.dcpack");
        var (code, output, err) = TrainCliTests.Run("pack", images, pack);   // 28×28: nothing to resize, same pixels
        Assert.True(code == 0, output + err);

        string[] Args(string data, string exp) =>
            ["train", data, "--arch", "alexnet_small", "--sobel", "--k", "5", "--epochs", "1", "--batch", "32", "--exp", exp,
             "--device", "cpu", "--pca", "16", "--workers", "2", "--limit", "150"];
        (code, output, err) = TrainCliTests.Run(Args(images, dir.File("folder")));
        Assert.True(code == 0, output + err);
        (code, output, err) = TrainCliTests.Run(Args(pack, dir.File("packed")));
        Assert.True(code == 0, output + err);

        var expected = new ExperimentFolder(dir.File("folder")).ReadMetrics();
        Assert.Single(expected);
        Assert.NotNull(expected[0].NmiLabels);                       // the pack's labels reach the metrics too
        SameMetrics.Assert(expected, new ExperimentFolder(dir.File("packed")).ReadMetrics());
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("folder"), "clusters")),
                     File.ReadAllBytes(Path.Combine(dir.File("packed"), "clusters")));
    }
}

using System.Diagnostics;
using System.Text.Json;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The experiment folder is never poisoned: a failed start journals nothing, other flags are applied (run settings)
/// or refused by name (results), a damaged journal is named at once, and results without their journal are kept.
/// </summary>
[Collection("finished experiment")]
public class ExperimentFolderGuardTests(FinishedExperiment finished)
{
    static (int Code, string Output) Run(params string[] args) => FinishedExperiment.Run(args);

    [Fact]
    public void AFailedStartLeavesNoExperimentBehind()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var bad = dir.File("bad.pth.tar");
        File.WriteAllText(bad, "not a checkpoint");
        var (code, output) = Run(FinishedExperiment.Args(exp, "--resume", bad));
        Assert.True(code == 2, output);
        Assert.Contains("bad.pth.tar", output);
        Assert.False(File.Exists(new ExperimentFolder(exp).ConfigPath));       // nothing says an experiment is here

        // Without --resume, the same folder starts as if the failed run had never been.
        (code, output) = Run(FinishedExperiment.Args(exp));
        Assert.True(code == 0, output);
        var folder = new ExperimentFolder(exp);
        Assert.Null(folder.ReadConfig()!.Resume);
        Assert.Equal(finished.Metrics.ClusteringLoss, folder.ReadMetrics().Single().ClusteringLoss);
    }

    [Fact]
    public void ARunSettingIsAppliedAndJournaledAResultFlagIsRefusedByName()
    {
        using var dir = new TempDir();
        var images = dir.File("images");
        DeepCluster.Core.Data.IdxDataset.FromFolder(CliProcess.FashionMnist, "train", limit: 120).ExportImageFolder(images);
        var bad = Directory.GetFiles(images, "*.png", SearchOption.AllDirectories).Order().ElementAt(37);
        File.WriteAllBytes(bad, File.ReadAllBytes(bad)[..60]);             // valid header, truncated data
        var exp = dir.File("exp");
        string[] Args(params string[] extra) =>
            ["train", images, "--arch", "alexnet_small", "--k", "4", "--epochs", "1", "--batch", "32", "--exp", exp,
             "--device", "cpu", "--pca", "8", .. extra];

        var (code, output) = Run(Args("--workers", "2"));
        Assert.True(code == 2, output);
        Assert.Contains(Path.GetFileName(bad), output);

        // The same experiment with --skip-bad-files (and another --workers): applied, journaled, in config.json.
        (code, output) = Run(Args("--skip-bad-files", "--workers", "1"));
        Assert.True(code == 0, output);
        Assert.Contains("--skip-bad-files on (was off)", output);
        Assert.Contains("--workers 1 (was 2)", output);
        var folder = new ExperimentFolder(exp);
        var saved = folder.ReadConfig()!;
        Assert.True(saved.SkipBadFiles);
        Assert.Equal(1, saved.Workers);
        Assert.Single(folder.ReadMetrics());

        // A flag that changes the result: one line naming it with both values; the folder is left as it was.
        var before = FinishedExperiment.Snapshot(exp);
        (code, output) = Run(Args("--skip-bad-files", "--workers", "1", "--lr", "0.1"));
        Assert.True(code == 2, output);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--lr 0.05 (folder) vs 0.1 (now)", line);
        Assert.Contains("--exp", line);
        Assert.Contains("deepcluster resume", line);
        FinishedExperiment.AssertUnchanged(before, exp);

        // `resume` runs what config.json says, --skip-bad-files included.
        (code, output) = Run("resume", exp, "--epochs", "2");
        Assert.True(code == 0, output);
        Assert.Equal(new[] { 0, 1 }, folder.ReadMetrics().Select(m => m.Epoch));
        Assert.Equal(2, folder.ReadConfig()!.Epochs);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    public void ADamagedJournalIsNamedAtOnce(string damage)
    {
        using var dir = new TempDir();
        var exp = finished.CopyTo(dir.File("exp"));
        var journal = new ExperimentFolder(exp).JournalPath;
        if (damage == "garbage") File.WriteAllBytes(journal, Enumerable.Range(0, 40_000).Select(i => (byte)(i * 31 + 7)).ToArray());
        else File.WriteAllBytes(journal, File.ReadAllBytes(journal)[..(int)(new FileInfo(journal).Length / 2)]);
        var before = FinishedExperiment.Snapshot(exp);
        var clock = Stopwatch.StartNew();
        var (code, output) = Run(FinishedExperiment.Args(exp));
        Assert.True(code == 2, output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(journal, line);
        Assert.Contains("damaged", line);
        FinishedExperiment.AssertUnchanged(before, exp);
    }

    [Fact]
    public void ResultsWithoutTheirJournalAreKeptUntilARestartIsAsked()
    {
        using var dir = new TempDir();
        var exp = finished.CopyTo(dir.File("exp"));
        var folder = new ExperimentFolder(exp);
        File.Delete(folder.JournalPath);
        var before = FinishedExperiment.Snapshot(exp);
        var (code, output) = Run(FinishedExperiment.Args(exp));
        Assert.True(code == 2, output);
        Assert.Contains("experiment.db", output);
        Assert.Contains("--restart", output);
        FinishedExperiment.AssertUnchanged(before, exp);

        (code, output) = Run(FinishedExperiment.Args(exp, "--restart"));
        Assert.True(code == 0, output);
        Assert.Contains("--restart: moved", output);
        var aside = Assert.Single(Directory.GetDirectories(exp, "replaced-*"));
        Assert.Equal(before[Path.GetFileName(folder.MetricsPath)], File.ReadAllBytes(Path.Combine(aside, "metrics.jsonl")));
        Assert.Equal(before["checkpoint.pth.tar"], File.ReadAllBytes(Path.Combine(aside, "checkpoint.pth.tar")));
        Assert.Equal(finished.Metrics.ClusteringLoss, folder.ReadMetrics().Single().ClusteringLoss);
    }
}

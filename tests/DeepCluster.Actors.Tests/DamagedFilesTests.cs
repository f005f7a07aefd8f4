using System.Runtime.InteropServices;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// Every file the journal records is checked before it is used or reported done: a damaged or missing intermediate
/// file is made again by its phase, a damaged output is published again or reported, and a moved folder uses its own files.
/// </summary>
[Collection("finished experiment")]
public class DamagedFilesTests(FinishedExperiment finished)
{
    [DllImport("libc", SetLastError = true)]
    static extern int link(string oldPath, string newPath);

    [Fact]
    public void ATruncatedCheckpointInAFinishedFolderIsReportedNotDone()
    {
        using var dir = new TempDir();
        var exp = finished.CopyTo(dir.File("exp"));
        var folder = new ExperimentFolder(exp);
        // As a run publishes it: checkpoint.pth.tar is a hard link of the epoch's model, so both are damaged.
        File.Delete(folder.CheckpointPath);
        Assert.Equal(0, link(folder.EpochModelPath(0), folder.CheckpointPath));
        using (var f = new FileStream(folder.CheckpointPath, FileMode.Open)) f.SetLength(f.Length / 2);

        var (code, output) = FinishedExperiment.Run(FinishedExperiment.Args(exp));
        Assert.True(code == 2, output);
        Assert.Contains(folder.CheckpointPath, output);
        Assert.DoesNotContain("done:", output);
    }

    [Fact]
    public void AChangedCheckpointIsPublishedAgainFromTheEpochModel()
    {
        using var dir = new TempDir();
        var exp = finished.CopyTo(dir.File("exp"));
        var folder = new ExperimentFolder(exp);
        var bytes = File.ReadAllBytes(folder.CheckpointPath);
        bytes[bytes.Length / 2] ^= 0x55;                                    // same size, other content
        File.WriteAllBytes(folder.CheckpointPath, bytes);

        var (code, output) = FinishedExperiment.Run(FinishedExperiment.Args(exp));
        Assert.True(code == 0, output);
        Assert.Contains("published again", output);
        Assert.Equal(File.ReadAllBytes(folder.EpochModelPath(0)), File.ReadAllBytes(folder.CheckpointPath));
    }

    [Fact]
    public void FeaturesDamagedWhileTheyAreClusteredAreComputedAgain()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var features = new ExperimentFolder(exp).FeaturesPath(0);
        using var run = new CliProcess(FinishedExperiment.Args(exp));
        Assert.True(run.WaitForLine("epoch 0 clustering", FinishedExperiment.Timeout), run.Output);
        // Finite garbage of the same size behind the same .npy header: only the checksum tells.
        var bytes = File.ReadAllBytes(features);
        var rng = new Random(3);
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(128));
        for (int i = 0; i < floats.Length; i++) floats[i] = (float)rng.NextDouble();
        File.WriteAllBytes(features, bytes);

        var code = run.WaitForExit(FinishedExperiment.Timeout);
        Assert.True(code == 0, run.Output);
        Assert.Contains("features.npy: its checksum differs from the journal's; epoch 0 goes back to the feature pass", run.Output);
        var m = new ExperimentFolder(exp).ReadMetrics().Single();
        Assert.Equal(finished.Metrics.ClusteringLoss, m.ClusteringLoss);
        Assert.Equal(finished.Metrics.NmiLabels, m.NmiLabels);
    }

    [Fact]
    public void FeaturesDeletedAfterAKillAreComputedAgain()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        using (var run = new CliProcess(FinishedExperiment.Args(exp)))
        {
            Assert.True(run.WaitForLine("epoch 0 clustering", FinishedExperiment.Timeout), run.Output);
            run.KillHard();
        }
        File.Delete(new ExperimentFolder(exp).FeaturesPath(0));

        var (code, output) = FinishedExperiment.Run(FinishedExperiment.Args(exp));
        Assert.True(code == 0, output);
        Assert.Contains("features.npy: missing; epoch 0 goes back to the feature pass", output);
        var m = new ExperimentFolder(exp).ReadMetrics().Single();
        Assert.Equal(finished.Metrics.ClusteringLoss, m.ClusteringLoss);
        Assert.Equal(finished.Metrics.NmiLabels, m.NmiLabels);
    }

    [Theory]
    [InlineData("order", "order.npy: its checksum differs from the journal's; epoch 0 goes back to sampling")]
    [InlineData("checkpoint", "the journal recorded")]
    public void ADamagedTrainingInputIsMadeAgainByItsPhase(string damage, string expected)
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var folder = new ExperimentFolder(exp);
        using (var run = new CliProcess(FinishedExperiment.Args(exp)))
        {
            // Killed inside epoch 0's training, once iteration 3's checkpoint exists (iteration 0's is journaled by
            // then); a fixed pause could outlast the 8 iterations on an idle machine.
            Assert.True(run.WaitForFile(folder.IterationCheckpoint(1), FinishedExperiment.Timeout), run.Output);
            run.KillHard();
        }
        if (damage == "order")
        {
            var bytes = File.ReadAllBytes(folder.SamplerOrderPath(0));
            bytes[^8] ^= 1;                                                  // the last image index ±1: same size, other order
            File.WriteAllBytes(folder.SamplerOrderPath(0), bytes);
        }
        else
            foreach (var ck in Directory.GetFiles(folder.CheckpointsDir))
                using (var f = new FileStream(ck, FileMode.Open)) f.SetLength(f.Length - 1000);

        var (code, output) = FinishedExperiment.Run(FinishedExperiment.Args(exp));
        Assert.True(code == 0, output);
        Assert.Contains(expected, output);
        if (damage == "checkpoint") Assert.Contains("epoch 0 goes back to training from its first iteration", output);
        Assert.Equal(finished.Metrics.ClusteringLoss, folder.ReadMetrics().Single().ClusteringLoss);
    }

    [Fact]
    public void AFolderMovedHalfwayResumesFromItsOwnFiles()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        using (var run = new CliProcess(FinishedExperiment.Args(exp)))
        {
            // Inside epoch 0's training, after an iteration checkpoint: a fixed pause could outlast the 8 iterations.
            Assert.True(run.WaitForFile(new ExperimentFolder(exp).IterationCheckpoint(1), FinishedExperiment.Timeout), run.Output);
            run.KillHard();
        }
        Assert.Empty(new ExperimentFolder(exp).ReadMetrics());               // killed before the epoch ended
        var moved = dir.File("moved");
        Directory.Move(exp, moved);                                          // the old path no longer exists

        var (code, output) = FinishedExperiment.Run("resume", moved);
        Assert.True(code == 0, output);
        Assert.Contains("resuming", output);
        Assert.False(Directory.Exists(exp));
        var folder = new ExperimentFolder(moved);
        Assert.Equal(finished.Metrics.ClusteringLoss, folder.ReadMetrics().Single().ClusteringLoss);
        Assert.Equal(moved, folder.ReadConfig()!.Exp);
        Assert.True(File.Exists(folder.CheckpointPath));
    }
}

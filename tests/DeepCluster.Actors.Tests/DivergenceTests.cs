using System.Text.RegularExpressions;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A learning rate far too large (`--lr 1e6`; the issue's `--wd 5` is now refused by the flag check before anything
/// starts): training diverges to NaN within a few iterations. The run must stop with one clear line naming
/// the epoch and iteration, exit 2, and leave the experiment at its last good durable point.
/// </summary>
public class DivergenceTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    static string[] Args(string exp) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--k", "4", "--epochs", "1", "--batch", "32",
        "--limit", "256", "--checkpoints", "2", "--workers", "1", "--exp", exp, "--device", "cpu", "--pca", "16",
        "--lr", "1e6",
    ];

    static readonly Regex Stopped = new(
        @"^deepcluster: training of epoch 0: the loss became (NaN|infinite) at iteration (\d+) \(learning rate / weight decay too large\?\)$",
        RegexOptions.Multiline);

    [Fact]
    public void ANonFiniteLossStopsTheRunNamingEpochAndIterationAndKeepsItResumable()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        string first;
        using (var run = new CliProcess(Args(exp)))
        {
            var code = run.WaitForExit(Timeout);
            Assert.True(code == 2, $"exit code {code}:\n{run.Output}");
            var m = Stopped.Match(run.Output);
            Assert.True(m.Success, run.Output);
            Assert.DoesNotContain("   at ", run.Output);      // no stack trace
            first = m.Groups[2].Value;
        }

        // Nothing diverged was made durable: no finished epoch, and every checkpoint written holds finite numbers.
        var folder = new ExperimentFolder(exp);
        Assert.Empty(folder.ReadMetrics());
        Assert.False(File.Exists(folder.EpochModelPath(0)));
        var checkpoints = Directory.GetFiles(folder.CheckpointsDir, "checkpoint_*.pth.tar");
        Assert.NotEmpty(checkpoints);
        TorchRuntime.EnsureLoaded();
        foreach (var path in checkpoints)
        {
            using var data = Checkpoint.Load(path);
            foreach (var (name, t) in data.StateDict)
                if (t.is_floating_point()) Assert.True(t.isfinite().all().item<bool>(), $"{path}: {name} is not finite");
        }

        // The same command continues from the last good checkpoint and stops at the same iteration.
        using (var again = new CliProcess(Args(exp)))
        {
            var code = again.WaitForExit(Timeout);
            Assert.True(code == 2, $"exit code {code}:\n{again.Output}");
            Assert.Contains("resuming", again.Output);
            var m = Stopped.Match(again.Output);
            Assert.True(m.Success, again.Output);
            Assert.Equal(first, m.Groups[2].Value);
        }
    }
}

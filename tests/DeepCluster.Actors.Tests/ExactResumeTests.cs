using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using static TorchSharp.torch;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The issue's exact-resume test: a run killed with SIGKILL during the feature pass, during clustering and during
/// training (after an iteration checkpoint, mid-epoch and at an epoch's first iteration), and resumed each time,
/// ends with exactly the metrics and weights of the same run left alone.
/// </summary>
public class ExactResumeTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    static string[] Args(string exp) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", "3",
        "--batch", "64", "--limit", "1024", "--checkpoints", "4", "--workers", "2", "--exp", exp, "--device", "cpu",
        "--seed", "11", "--pca", "32",
    ];

    [Fact]
    public void AResumedRunContinuesExactlyAsIfItHadNotBeenKilled()
    {
        using var dir = new TempDir();
        var reference = dir.File("reference");
        using (var run = new CliProcess(Args(reference)))
            Assert.True(run.WaitForExit(Timeout) == 0, run.Output);

        // 16 iterations per epoch, a checkpoint every 4: checkpoint_5 is epoch 1's iteration 4, checkpoint_8 epoch 2's
        // iteration 0 (the fresh head of the epoch is in it).
        var killed = dir.File("killed");
        var folder = new ExperimentFolder(killed);
        KillAt(killed, run => run.WaitForLine("epoch 1 features", Timeout));
        KillAt(killed, run => run.WaitForLine("epoch 1 clustering", Timeout));
        // Past iteration 4's checkpoint (journaled by then) and a few iterations into what the resumed run must redo:
        // killed when iteration 8's checkpoint file appears, which may or may not be journaled yet; either is a resume
        // inside the epoch. (A fixed pause after checkpoint_5 could outlast the epoch on a fast machine.)
        KillAt(killed, run => run.WaitForFile(folder.IterationCheckpoint(6), Timeout));
        var resumed = KillAt(killed, run => run.WaitForFile(folder.IterationCheckpoint(8), Timeout));
        // Resumed inside epoch 1 from a journaled iteration checkpoint (iteration 4, or 8 when the kill came late).
        Assert.Matches(@"resuming .* at epoch 1, phase training \(iteration (4|8|12)\)", resumed);
        using (var last = new CliProcess(Args(killed)))
        {
            Assert.True(last.WaitForExit(Timeout) == 0, last.Output);
            Assert.Contains("resuming", last.Output);
        }

        var expected = new ExperimentFolder(reference).ReadMetrics();
        var actual = folder.ReadMetrics();
        Assert.Equal(new[] { 0, 1, 2 }, expected.Select(m => m.Epoch));
        Assert.Equal(expected.Select(m => m.Epoch), actual.Select(m => m.Epoch));
        SameMetrics.Assert(expected, actual);
        AssertSameCheckpoint(new ExperimentFolder(reference).CheckpointPath, folder.CheckpointPath);
    }

    /// <summary>Starts the run (or its continuation), waits for the moment and kills it with SIGKILL; returns its output.</summary>
    static string KillAt(string exp, Func<CliProcess, bool> moment)
    {
        using var run = new CliProcess(Args(exp));
        Assert.True(moment(run), $"the kill point was never reached:\n{run.Output}");
        run.KillHard();
        return run.Output;
    }

    /// <summary>Same weights, buffers and momentum buffers, bit for bit.</summary>
    static void AssertSameCheckpoint(string expectedPath, string actualPath)
    {
        TorchRuntime.EnsureLoaded();
        using var expected = Checkpoint.Load(expectedPath);
        using var actual = Checkpoint.Load(actualPath);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.StateDict.Keys.Order(), actual.StateDict.Keys.Order());
        foreach (var (name, t) in expected.StateDict)
            Assert.True(Same(t, actual.StateDict[name]), $"{name} differs");
        Assert.NotNull(expected.Optimizer);
        Assert.Equal(expected.Optimizer!.MomentumBuffers.Keys.Order(), actual.Optimizer!.MomentumBuffers.Keys.Order());
        foreach (var (i, t) in expected.Optimizer.MomentumBuffers)
            Assert.True(Same(t, actual.Optimizer.MomentumBuffers[i]), $"momentum buffer {i} differs");
    }

    static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }
}

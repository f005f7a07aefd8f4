using DeepCluster.Core.Tests.Evaluation;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>`eval-linear` killed with SIGKILL in the middle of a run continues from its last finished epoch.</summary>
public class EvalLinearKillTests
{
    [Fact]
    public void AKilledRunContinuesFromItsLastEpochAndEndsWithTheUninterruptedNumbers()
    {
        using var dir = new TempDir();
        // Epochs of 48 images took 20 ms, so a kill sent on "epoch 2" could land after the last epoch on a fast or busy
        // machine. 480 images make an epoch about 0.2 s, and 18 epochs after the kill point leave seconds of margin.
        EvalFixtures.Idx(dir.File("idx"), classes: 3, train: 480, test: 48);
        string[] Args(string exp) => ["eval-linear", "--data", dir.File("idx"), "--arch", "alexnet_small", "--conv", "4", "--epochs", "20",
                                      "--batch_size", "8", "--workers", "2", "--exp", exp, "--device", "cpu"];
        var whole = dir.File("whole");
        using (var run = new CliProcess(Args(whole)))
            Assert.True(run.WaitForExit(TimeSpan.FromMinutes(5)) == 0, run.Output);

        var killed = dir.File("killed");
        using (var run = new CliProcess(Args(killed)))
        {
            Assert.True(run.WaitForLine("epoch 2/20:", TimeSpan.FromMinutes(5)), run.Output);
            run.KillHard();
        }
        var done = File.ReadAllLines(Path.Combine(killed, "metrics.jsonl")).Length;
        Assert.InRange(done, 2, 19);
        using (var resumed = new CliProcess(Args(killed)))
        {
            Assert.True(resumed.WaitForExit(TimeSpan.FromMinutes(5)) == 0, resumed.Output);
            Assert.Contains("resuming", resumed.Output);
            Assert.DoesNotContain("epoch 1/20:", resumed.Output);
        }
        string[] Lines(string exp) => File.ReadAllLines(Path.Combine(exp, "metrics.jsonl"))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"(seconds|train_images_per_second)\":[^,}]*", "")).ToArray();
        Assert.Equal(Lines(whole), Lines(killed));
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, "summary.txt"))[0], File.ReadAllLines(Path.Combine(killed, "summary.txt"))[0]);
    }
}

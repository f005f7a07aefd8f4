using System.Text.Json;
using DeepCluster.Core.Tests.Evaluation;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>`eval-voc` killed with SIGKILL in the middle of a run continues from its last checkpoint.</summary>
public class EvalVocKillTests
{
    [Fact]
    public void AKilledRunContinuesFromItsLastCheckpointAndEndsWithTheUninterruptedNumbers()
    {
        using var dir = new TempDir();
        VocFixture.Build(dir.File("voc"), train: 16, val: 4, side: 30);
        string[] Args(string exp) => ["eval-voc", "--vocdir", dir.File("voc"), "--arch", "alexnet_small", "--nit", "120", "--stepsize", "15",
                                      "--checkpoint_every", "10", "--eval_random_crops", "0", "--workers", "2", "--exp", exp, "--device", "cpu"];
        var whole = dir.File("whole");
        using (var run = new CliProcess(Args(whole)))
            Assert.True(run.WaitForExit(TimeSpan.FromMinutes(5)) == 0, run.Output);

        var killed = dir.File("killed");
        using (var run = new CliProcess(Args(killed)))
        {
            // The first checkpoint (iteration 10) leaves 110 iterations, about 1 s, for the kill to land in.
            Assert.True(run.WaitForFile(Path.Combine(killed, "checkpoint.pth.tar"), TimeSpan.FromMinutes(5)), run.Output);
            run.KillHard();
        }
        Assert.False(File.Exists(Path.Combine(killed, "results.json")));
        using (var resumed = new CliProcess(Args(killed)))
        {
            Assert.True(resumed.WaitForExit(TimeSpan.FromMinutes(5)) == 0, resumed.Output);
            Assert.Contains("resuming", resumed.Output);
        }
        JsonElement Results(string exp) => JsonDocument.Parse(File.ReadAllText(Path.Combine(exp, "results.json"))).RootElement;
        foreach (var key in new[] { "train_map", "test_map", "train_ap", "test_ap", "iterations" })
            Assert.Equal(Results(whole).GetProperty(key).ToString(), Results(killed).GetProperty(key).ToString());
    }
}

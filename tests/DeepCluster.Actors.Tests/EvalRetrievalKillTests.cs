using System.Text.Json;
using DeepCluster.Core.Tests.Evaluation.Retrieval;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>`eval-retrieval` killed with SIGKILL during the database pass continues from the descriptors it saved.</summary>
public class EvalRetrievalKillTests
{
    [Fact]
    public void AKilledRunContinuesFromItsSavedDescriptorsAndEndsWithTheUninterruptedNumbers()
    {
        using var dir = new TempDir();
        RetrievalFixture.Build(dir.File("oxford"), seed: 1);
        RetrievalFixture.Build(dir.File("paris"), seed: 2);
        string[] Args(string exp) => ["eval-retrieval", "--dataset", dir.File("oxford"), "--other", dir.File("paris"), "--arch", "alexnet_small",
                                      "--imdim", "320", "--checkpoint_every", "1", "--exp", exp, "--device", "cpu"];
        var whole = dir.File("whole");
        using (var run = new CliProcess(Args(whole)))
            Assert.True(run.WaitForExit(TimeSpan.FromMinutes(3)) == 0, run.Output);

        var killed = dir.File("killed");
        using (var run = new CliProcess(Args(killed)))
        {
            // Killed after the first database image: the rest of the pass (about 1 s) is the margin for the kill.
            Assert.True(run.WaitForFile(Path.Combine(killed, "descriptors", "database-000000-000001.npy"), TimeSpan.FromMinutes(3)), run.Output);
            run.KillHard();
        }
        Assert.False(File.Exists(Path.Combine(killed, "results.json")), "the run ended before the kill: nothing was resumed");
        using (var resumed = new CliProcess(Args(killed)))
        {
            Assert.True(resumed.WaitForExit(TimeSpan.FromMinutes(3)) == 0, resumed.Output);
            Assert.Contains("resuming: the PCA statistics of 15/15 paris images", resumed.Output);
            Assert.Contains("resuming: the descriptors of", resumed.Output);
        }
        JsonElement Results(string exp) => JsonDocument.Parse(File.ReadAllText(Path.Combine(exp, "results.json"))).RootElement;
        foreach (var key in new[] { "map", "ap", "pca_energy", "images" })
            Assert.Equal(Results(whole).GetProperty(key).ToString(), Results(killed).GetProperty(key).ToString());
        foreach (var q in new[] { "b0_1", "b1_1", "b2_1" })
            Assert.Equal(File.ReadAllLines(Path.Combine(whole, "ranks", q + ".rnk")), File.ReadAllLines(Path.Combine(killed, "ranks", q + ".rnk")));
    }
}

using System.Text.Json;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The issue's crash test: a short run is killed with SIGKILL during the feature pass, clustering and training,
/// resumed each time with the same command, and must end with every epoch done exactly once and loadable outputs.
/// </summary>
public class KillResumeTests
{
    static string[] Args(string exp, int epochs) =>
    [
        "train", CliProcess.FashionMnist, "--arch", "alexnet_small", "--sobel", "--k", "10", "--epochs", epochs.ToString(),
        "--batch", "64", "--limit", "1024", "--checkpoints", "4", "--workers", "2", "--exp", exp, "--device", "cpu",
        "--seed", "5", "--pca", "64",
    ];

    [Fact]
    public void KilledAtEveryPhaseResumesWithoutLosingOrRepeatingAnEpoch()
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var timeout = TimeSpan.FromMinutes(3);
        // Kill points: while features, clustering and training of epoch 1 are running, then mid-training of epoch 2.
        // A phase of this small run can end before the kill lands (0.1–0.5 s on an idle machine); the resumed run then
        // starts past it and is killed at the next point it reaches.
        string[] markers = ["epoch 1 features", "epoch 1 clustering", "epoch 1 training", "epoch 2 training"];
        var killedAt = new List<string>();
        for (int next = 0; next < markers.Length;)
        {
            using var run = new CliProcess(Args(exp, 3));
            var found = run.WaitForAnyLine(markers[next..], timeout);
            Assert.True(found >= 0, $"never saw any of '{string.Join("', '", markers[next..])}':\n{run.Output}");
            var marker = markers[next + found];
            // Inside epoch 2's training, once its iteration-4 checkpoint exists (16 iterations an epoch, one every 4):
            // a fixed pause could outlast the epoch on a fast machine.
            if (marker == "epoch 2 training")
                Assert.True(run.WaitForFile(new ExperimentFolder(exp).IterationCheckpoint(9), timeout), run.Output);
            run.KillHard();
            killedAt.Add(marker);
            next += found + 1;
        }
        Assert.True(killedAt.Count >= 3, "killed only at " + string.Join(", ", killedAt));
        // What a kill in the middle of a checkpoint write leaves: a temporary file, never a half-written checkpoint.
        var stale = Path.Combine(exp, "checkpoints", ".checkpoint_9.pth.tar.4242.0123456789abcdef.tmp");
        File.WriteAllBytes(stale, new byte[100]);
        using (var last = new CliProcess(Args(exp, 3)))
        {
            var code = last.WaitForExit(timeout);
            Assert.True(code == 0, last.Output);
            Assert.Contains("resuming", last.Output);
            Assert.Contains("half-written", last.Output);
        }
        Assert.False(File.Exists(stale));

        var folder = new ExperimentFolder(exp);
        var metrics = folder.ReadMetrics();
        Assert.Equal(new[] { 0, 1, 2 }, metrics.Select(m => m.Epoch));
        Assert.All(metrics, m => Assert.True(m.ConvnetLoss > 0 && m.TrainingSeconds > 0));
        Assert.All(metrics.Skip(1), m => Assert.NotNull(m.NmiPrevious));
        Assert.All(metrics, m => Assert.NotNull(m.NmiLabels));
        Assert.True(File.Exists(folder.IterationCheckpoint(0)));

        var py = PythonPeer.Run(PythonModels.Preamble + """
            import pickle
            exp = sys.argv[1]
            ck = torch.load(exp + '/checkpoint.pth.tar', map_location='cpu')
            sd = ck['state_dict']
            m = ARCHS['alexnet_small'](sobel=True, out=sd['top_layer.weight'].shape[0])
            m.load_state_dict(sd, strict=True)
            print('epoch', ck['epoch'], ck['arch'])
            log = pickle.load(open(exp + '/clusters', 'rb'))
            print('clusters', len(log), len(log[0]), sum(len(c) for c in log[-1]))
            """, exp);
        Assert.Contains("epoch 3 alexnet_small", py);
        Assert.Contains("clusters 3 10 1024", py);
    }

    [Theory]
    [InlineData("TERM", "epoch 0 features")]
    [InlineData("INT", "epoch 0 training")]
    public void ASignalStopsTheRunPromptlyAndTheSameCommandFinishesIt(string signal, string marker)
    {
        using var dir = new TempDir();
        var exp = dir.File("exp");
        var timeout = TimeSpan.FromMinutes(3);
        using (var run = new CliProcess(Args(exp, 2)))
        {
            Assert.True(run.WaitForLine(marker, timeout), $"never saw '{marker}':\n{run.Output}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            run.Signal(signal);
            var code = run.WaitForExit(TimeSpan.FromSeconds(30));       // a hang throws here
            Assert.True(code == 130, $"exit code {code}:\n{run.Output}");
            Assert.Contains("interrupted; run the same command to continue", run.Output);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed} to stop");
        }
        using (var again = new CliProcess(Args(exp, 2)))
        {
            var code = again.WaitForExit(timeout);
            Assert.True(code == 0, again.Output);
        }
        Assert.Equal(new[] { 0, 1 }, new ExperimentFolder(exp).ReadMetrics().Select(m => m.Epoch));
    }
}

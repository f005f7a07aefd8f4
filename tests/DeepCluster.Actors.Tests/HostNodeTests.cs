using DeepCluster.Actors.Cluster;
using DeepCluster.Actors.Control;
using DeepCluster.Actors.Hosting;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// A host node in this process (Akka.Cluster on 127.0.0.1, SQLite journal, experiments as sharded entities with
/// remember-entities), driven through <see cref="IExperimentControl"/>: what the HTTP API serves.
/// </summary>
public sealed class HostNodeTests : IDisposable
{
    static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    readonly TempDir dir = new();

    /// <summary>2 epochs of alexnet_small on 384 Fashion-MNIST images, checkpoints every 2 iterations.</summary>
    static TrainConfig Tiny(string exp, int epochs = 2) => new()
    {
        Data = CliProcess.FashionMnist, Arch = "alexnet_small", Sobel = true, NmbCluster = 10, Epochs = epochs, Batch = 64,
        Limit = 384, Checkpoints = 2, Workers = 2, Exp = exp, Device = "cpu", Seed = 7, Pca = 16, Niter = 10,
    };

    Task<HostNode> Start()
    {
        var (hocon, _) = HostConfig.Load(null);
        var settings = HostSettingsLoader.From(hocon, "test", dir.Path, new HostOverrides(Port: 0, Experiments: dir.File("experiments")));
        return HostNode.StartAsync(settings, hocon);
    }

    static async Task<ExperimentStatusView> WaitFor(IExperimentControl control, string id, Func<ExperimentStatusView, bool> until, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var view = await control.StatusAsync(id, CancellationToken.None);
            if (until(view)) return view;
            if (view.State == RunStates.Failed) throw new Xunit.Sdk.XunitException($"experiment {id} failed: {view.Error}");
            if (DateTime.UtcNow > end) throw new TimeoutException($"experiment {id}: still {view.State}, epoch {view.Epoch} {view.Phase}");
            await Task.Delay(200);
        }
    }

    /// <summary>The same configuration run by <c>deepcluster train</c> in this process: the reference per-epoch metrics.</summary>
    async Task<IReadOnlyList<EpochMetrics>> TrainReference(int epochs)
    {
        var exp = dir.File("reference");
        var outcome = await ExperimentHost.RunAsync(Tiny(exp, epochs), null, new NullObserver());
        Assert.True(outcome.Success, outcome.Message);
        return new ExperimentFolder(exp).ReadMetrics();
    }

    [Fact]
    public async Task ASubmittedExperimentRunsToTheEndWithTheLossesOfTrain()
    {
        IReadOnlyList<EpochMetrics> metrics;
        string id;
        await using (var node = await Start())
        {
            id = await node.Control.SubmitAsync(Tiny("ignored"), CancellationToken.None);
            Assert.True(ExperimentFolder.IsId(id));
            var running = await WaitFor(node.Control, id, v => v.Phase != "", TimeSpan.FromMinutes(1));
            Assert.Equal(node.Address, running.Nodes["training"]);
            var done = await WaitFor(node.Control, id, v => v.State == RunStates.Finished, RunTimeout);
            Assert.Equal("done", done.Phase);
            Assert.StartsWith("epoch 1:", done.LastMetrics);
            var listed = await node.Control.ListAsync(CancellationToken.None);
            Assert.Equal(id, Assert.Single(listed).Id);
            var folder = new ExperimentFolder(Path.Combine(node.Settings.ExperimentsRoot, id));
            Assert.Equal(folder.Root, done.Folder);
            Assert.True(File.Exists(folder.CheckpointPath));
            metrics = folder.ReadMetrics();
            var log = await node.Control.LogsAsync(id, 0, CancellationToken.None);
            Assert.Contains(log.Lines, l => l.Contains("submitted on akka.tcp://deepcluster@127.0.0.1:"));
            Assert.Contains(log.Lines, l => l.Contains("done: 2 epoch(s)"));
            var more = await node.Control.LogsAsync(id, log.NextOffset, CancellationToken.None);
            Assert.Empty(more.Lines);
            await Assert.ThrowsAsync<UnknownExperimentException>(() => node.Control.StatusAsync("0123456789abcdef", CancellationToken.None));
            Assert.Equal(RunStates.Finished, (await node.Control.PauseAsync(id, CancellationToken.None)).State);
        }
        SameMetrics.Assert(await TrainReference(2), metrics);
    }

    [Fact]
    public async Task TwoExperimentsRunAtOnceEachWithItsOwnJournalAndFolder()
    {
        await using var node = await Start();
        var a = await node.Control.SubmitAsync(Tiny("ignored", epochs: 2), CancellationToken.None);
        var b = await node.Control.SubmitAsync(Tiny("ignored", epochs: 1) with { Seed = 8 }, CancellationToken.None);
        Assert.NotEqual(a, b);
        await WaitFor(node.Control, a, v => v.State == RunStates.Finished, RunTimeout);
        await WaitFor(node.Control, b, v => v.State == RunStates.Finished, RunTimeout);
        var listed = await node.Control.ListAsync(CancellationToken.None);
        Assert.Equal(new[] { a, b }.Order(), listed.Select(v => v.Id).Order());
        Assert.Equal(2, new ExperimentFolder(Path.Combine(node.Settings.ExperimentsRoot, a)).ReadMetrics().Count);
        Assert.Single(new ExperimentFolder(Path.Combine(node.Settings.ExperimentsRoot, b)).ReadMetrics());
        var logA = await node.Control.LogsAsync(a, 0, CancellationToken.None);
        Assert.DoesNotContain(logA.Lines, l => l.Contains("done: 1 epoch(s)"));   // b's lines are in b's log only
    }

    [Fact]
    public async Task APauseHoldsOverAHostRestartAndResumeGivesTheUninterruptedLosses()
    {
        string id;
        int pausedEpoch;
        await using (var node = await Start())
        {
            id = await node.Control.SubmitAsync(Tiny("ignored"), CancellationToken.None);
            await WaitFor(node.Control, id, v => v.Phase == "training" && v.Done >= 1, RunTimeout);
            var reply = await node.Control.PauseAsync(id, CancellationToken.None);
            Assert.Equal(RunStates.Pausing, reply.State);
            var paused = await WaitFor(node.Control, id, v => v.State == RunStates.Paused, RunTimeout);
            // Asked during epoch 0's training; a short epoch may end before the pause lands, which then holds in epoch 1.
            Assert.InRange(paused.Epoch, 0, 1);
            pausedEpoch = paused.Epoch;
        }
        await using (var node = await Start())
        {
            // The restarted host recovers the experiment as paused: nothing runs until it is resumed.
            var view = await node.Control.StatusAsync(id, CancellationToken.None);
            Assert.Equal(RunStates.Paused, view.State);
            await Task.Delay(2000);
            Assert.Equal(RunStates.Paused, (await node.Control.StatusAsync(id, CancellationToken.None)).State);
            Assert.Equal(RunStates.Running, (await node.Control.ResumeAsync(id, CancellationToken.None)).State);
            await WaitFor(node.Control, id, v => v.State == RunStates.Finished, RunTimeout);
            var log = await node.Control.LogsAsync(id, 0, CancellationToken.None);
            Assert.Contains(log.Lines, l => l.Contains($"paused at epoch {pausedEpoch}, "));
        }
        var folder = new ExperimentFolder(Path.Combine(dir.File("experiments"), id));
        SameMetrics.Assert(await TrainReference(2), folder.ReadMetrics());
    }

    [Fact]
    public async Task ARunningExperimentContinuesAfterTheHostStopsAndStopIsDurable()
    {
        string id;
        await using (var node = await Start())
        {
            id = await node.Control.SubmitAsync(Tiny("ignored", epochs: 20), CancellationToken.None);
            await WaitFor(node.Control, id, v => v.Phase == "training" && v.Done >= 2, RunTimeout);
        }   // the host stops mid-epoch: the experiment is remembered as running
        var log = new ExperimentFolder(Path.Combine(dir.File("experiments"), id)).LogPath;
        await using (var node = await Start())
        {
            // Nobody asks about it: the shard restarts the remembered entity, which continues the run by itself.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (!File.ReadAllText(log).Contains("continuing on") && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.Contains("continuing on " + node.Address, File.ReadAllText(log));
            await WaitFor(node.Control, id, v => v.State == RunStates.Running && v.Phase != "", TimeSpan.FromMinutes(1));
            Assert.Equal(RunStates.Stopped, (await node.Control.StopAsync(id, CancellationToken.None)).State);
            Assert.Contains("nothing to stop", (await node.Control.StopAsync(id, CancellationToken.None)).Message);
        }
        await using (var node = await Start())
        {
            Assert.Equal(RunStates.Stopped, (await node.Control.StatusAsync(id, CancellationToken.None)).State);
            Assert.True(new ExperimentFolder(Path.Combine(dir.File("experiments"), id)).ReadMetrics().Count < 20);
        }
    }

    public void Dispose() => dir.Dispose();

    sealed class NullObserver : IExperimentObserver
    {
        public void OnProgress(DeepCluster.Actors.Progress.PhaseProgress progress) { }
        public void OnLog(string line) { }
    }
}

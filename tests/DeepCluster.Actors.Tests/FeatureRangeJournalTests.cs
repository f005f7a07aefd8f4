using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The experiment journals each finished range of its feature pass (<see cref="FeatureRangeDone"/>) and hands the
/// journaled ranges back to the pass when the epoch resumes, which then computes only the others.
/// </summary>
[Collection("console")]
public class FeatureRangeJournalTests
{
    static Artifact A(string path) => new(path, 10, "0123456789abcdef");

    [Fact]
    public void RangesBelongToTheCurrentFeaturePassOnly()
    {
        var s = new ExperimentState()
            .Apply(new ExperimentCreated(new TrainConfig { Data = "/d", Exp = "/e", Epochs = 2 }, A("m"), 0))
            .Apply(new FeatureRangeDone(0, 0, 64, A("r0")))
            .Apply(new FeatureRangeDone(0, 128, 64, A("r2")));
        Assert.Equal([0, 128], s.FeatureRanges!.Select(r => r.Start));
        Assert.Equal(Phase.Features, s.Phase);
        Assert.Null(s.Apply(new FeaturesDone(0, A("f"), null, 1)).FeatureRanges);
        Assert.Null(s.Apply(new PhaseRewound(0, Phase.Features, "x")).FeatureRanges);
        Assert.Null(s.Apply(new EpochDone(new EpochMetrics { Epoch = 0 }, A("m1"), A("a"))).FeatureRanges);
    }

    sealed class Watcher(Func<PhaseProgress, bool> stopWhen, CancellationTokenSource cts) : IExperimentObserver
    {
        public List<string> Lines { get; } = new();
        public void OnProgress(PhaseProgress p) { if (stopWhen(p)) cts.Cancel(); }
        public void OnLog(string line) { lock (Lines) Lines.Add(line); }
    }

    [Fact]
    public async Task AnEpochInterruptedInItsFeaturePassResumesWithTheRangesItJournaled()
    {
        using var dir = new TempDir();
        var hocon = dir.File("ranges.conf");
        File.WriteAllText(hocon, "deepcluster.features { range-images = 64, local-workers = 2 }\n");
        var config = new TrainConfig
        {
            Data = CliProcess.FashionMnist, Exp = dir.File("exp"), Arch = "alexnet_small", NmbCluster = 4, Epochs = 1, Batch = 64,
            Limit = 1920, Checkpoints = 1000, Workers = 1, Device = "cpu", Pca = 8, Niter = 5,
        };
        var folder = new ExperimentFolder(config.Exp);

        using (var cts = new CancellationTokenSource())
        {
            // Interrupted once 512 rows are in: with 2 workers at most 2 ranges (128 rows) are in flight, so several
            // ranges were finished and journaled a while before; 1400 rows are left.
            var first = new Watcher(p => p.Phase == Phase.Features && p.Done >= 512, cts);
            var outcome = await ExperimentHost.RunAsync(config, hocon, first, cts.Token).WaitAsync(TimeSpan.FromSeconds(90));
            Assert.True(outcome.Interrupted, outcome.Message);
        }
        var journaled = JournalProbe.Read(folder, JournalProbe.Current).Events.OfType<FeatureRangeDone>().ToList();
        Assert.NotEmpty(journaled);
        Assert.True(journaled.Count < 30, "the pass was interrupted before its last range");
        Assert.All(journaled, r => Assert.Null(r.File.Problem(folder)));

        var second = new Watcher(_ => false, new CancellationTokenSource());
        var done = await ExperimentHost.RunAsync(config, hocon, second).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(done.Success, done.Message);
        Assert.Contains(second.Lines, l => l.Contains(
            $"features of {journaled.Sum(r => r.Count)} image(s) in {journaled.Count} range(s) were computed before the interruption; reused"));
        var events = JournalProbe.Read(folder, JournalProbe.Current, useSnapshot: false).Events;
        var ranges = events.OfType<FeatureRangeDone>().ToList();
        // Each image's row in exactly one journaled range: the resumed pass journaled only the ranges it computed.
        Assert.Equal(Enumerable.Range(0, 1920), ranges.SelectMany(r => Enumerable.Range(r.Start, r.Count)).Order());
        Assert.Single(events.OfType<FeaturesDone>());
        Assert.Empty(Directory.EnumerateFiles(folder.EpochDir(0), "*.range-*"));
    }
}

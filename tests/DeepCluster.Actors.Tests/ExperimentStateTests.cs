using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Tests;

public class ExperimentStateTests
{
    static readonly TrainConfig Config = new() { Data = "/data", Exp = "/exp", Epochs = 2 };
    static Artifact A(string path) => new(path, 10, "0123456789abcdef");

    static ExperimentState Training() => new ExperimentState()
        .Apply(new ExperimentCreated(Config, A("work/initial.pth.tar"), 0))
        .Apply(new FeaturesDone(0, A("f.npy"), null, 1))
        .Apply(new ClusteringDone(0, A("a.npy"), 3.5, 10, 1, null, 0.4))
        .Apply(new SamplingDone(0, A("o.npy"), A("l.npy"), 100, 10))
        .Apply(new TrainingCheckpointed(0, 5, A("c.pth.tar"), 12, 320));

    [Fact]
    public void EventsWalkThePhasesOfAnEpochAndCountFinishedEpochs()
    {
        var s = new ExperimentState().Apply(new ExperimentCreated(Config, A("work/initial.pth.tar"), 0));
        Assert.True(s.Started);
        Assert.Equal((0, Phase.Features), (s.Epoch, s.Phase));
        s = s.Apply(new FeaturesDone(0, A("f.npy"), null, 1));
        Assert.Equal(Phase.Clustering, s.Phase);
        s = s.Apply(new ClusteringDone(0, A("a.npy"), 3.5, 10, 1, null, 0.4));
        Assert.Equal(Phase.Sampling, s.Phase);
        s = s.Apply(new SamplingDone(0, A("o.npy"), A("l.npy"), 100, 10));
        Assert.Equal(Phase.Training, s.Phase);
        s = s.Apply(new TrainingCheckpointed(0, 5, A("c.pth.tar"), 12, 320));
        Assert.Equal(5, s.LastCheckpoint!.Iteration);
        s = s.Apply(new EpochDone(new EpochMetrics { Epoch = 0 }, A("m0.pth.tar"), A("a.npy")));
        Assert.Equal((1, Phase.Features), (s.Epoch, s.Phase));
        Assert.Null(s.LastCheckpoint);
        Assert.Null(s.Features);
        Assert.Equal("m0.pth.tar", s.Model!.Path);
        Assert.Equal("a.npy", s.PreviousAssignments!.Path);
        Assert.Single(s.Completed);
        Assert.False(s.Finished);
        s = s.Apply(new RunSettingsChanged(Config.Settings() with { Epochs = 1, Workers = 1, SkipBadFiles = true }));
        Assert.True(s.Finished);
        Assert.Equal((1, true), (s.Config!.Workers, s.Config.SkipBadFiles));
    }

    [Fact]
    public void ResumeFromAStartEpochBeginsThere()
    {
        var s = new ExperimentState().Apply(new ExperimentCreated(Config with { Epochs = 10 }, A("m"), 7));
        Assert.Equal(7, s.Epoch);
        Assert.False(s.Finished);
    }

    [Fact]
    public void ARewindForgetsWhatTheRewoundPhasesMade()
    {
        var s = Training().Apply(new PhaseRewound(0, Phase.Training, "c.pth.tar damaged"));
        Assert.Equal(Phase.Training, s.Phase);
        Assert.Null(s.LastCheckpoint);
        Assert.NotNull(s.Sampling);

        s = Training().Apply(new PhaseRewound(0, Phase.Clustering, "a.npy damaged"));
        Assert.Equal(Phase.Clustering, s.Phase);
        Assert.Equal((true, false, false), (s.Features is not null, s.Clustering is not null, s.Sampling is not null));

        s = Training().Apply(new PhaseRewound(0, Phase.Features, "f.npy damaged"));
        Assert.Equal((0, Phase.Features), (s.Epoch, s.Phase));
        Assert.Null(s.Features);
        Assert.Equal("work/initial.pth.tar", s.Model!.Path);
    }
}

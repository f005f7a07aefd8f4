using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Progress;
using DeepCluster.Core.Experiment;

namespace DeepCluster.Actors.Tests;

public class ExperimentStateTests
{
    static readonly TrainConfig Config = new() { Data = "/data", Exp = "/exp", Epochs = 2 };

    [Fact]
    public void EventsWalkThePhasesOfAnEpochAndCountFinishedEpochs()
    {
        var s = new ExperimentState()
            .Apply(new ExperimentCreated(Config))
            .Apply(new ModelReady("/exp/work/initial.pth.tar", 0));
        Assert.True(s.Started);
        Assert.Equal((0, Phase.Features), (s.Epoch, s.Phase));
        s = s.Apply(new FeaturesDone(0, "f.npy", null, 1));
        Assert.Equal(Phase.Clustering, s.Phase);
        s = s.Apply(new ClusteringDone(0, "a.npy", 3.5, 10, 1, null, 0.4));
        Assert.Equal(Phase.Sampling, s.Phase);
        s = s.Apply(new SamplingDone(0, "o.npy", "l.npy", 100, 10));
        Assert.Equal(Phase.Training, s.Phase);
        s = s.Apply(new TrainingCheckpointed(0, 5, "c.pth.tar", 12, 320));
        Assert.Equal(5, s.LastCheckpoint!.Iteration);
        s = s.Apply(new EpochDone(new EpochMetrics { Epoch = 0 }, "m0.pth.tar", "a.npy"));
        Assert.Equal((1, Phase.Features), (s.Epoch, s.Phase));
        Assert.Null(s.LastCheckpoint);
        Assert.Null(s.Features);
        Assert.Equal("m0.pth.tar", s.ModelPath);
        Assert.Equal("a.npy", s.PreviousAssignmentsPath);
        Assert.Single(s.Completed);
        Assert.False(s.Finished);
        s = s.Apply(new EpochsChanged(1));
        Assert.True(s.Finished);
    }

    [Fact]
    public void ResumeFromAStartEpochBeginsThere()
    {
        var s = new ExperimentState().Apply(new ExperimentCreated(Config with { Epochs = 10 })).Apply(new ModelReady("m", 7));
        Assert.Equal(7, s.Epoch);
        Assert.False(s.Finished);
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.Clustering;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Actors.Experiment;
using DeepCluster.Actors.Features;
using DeepCluster.Actors.Hosting;
using DeepCluster.Actors.Progress;
using DeepCluster.Actors.Sampling;
using DeepCluster.Actors.Training;
using DeepCluster.Core.Experiment;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// No silent hang: an exception a pipeline actor does not handle, in any actor and any phase, ends the run within
/// seconds with a message naming the actor, the phase and the error (before, the actor was restarted and the
/// experiment waited for its reply forever).
/// </summary>
[Collection("console")]
public class SupervisionTests
{
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    static TrainConfig Small(string exp) => new()
    {
        Data = CliProcess.FashionMnist, Exp = exp, Arch = "alexnet_small", NmbCluster = 4, Epochs = 1, Batch = 64,
        Limit = 128, Checkpoints = 1000, Workers = 1, Device = "cpu", Pca = 8, Niter = 5,
    };

    sealed class Lines : IExperimentObserver
    {
        public List<string> All { get; } = new();
        public void OnProgress(PhaseProgress p) { lock (All) All.Add($"epoch {p.Epoch} {p.Phase} {p.Done}/{p.Total} {p.Detail}"); }
        public void OnLog(string line) { lock (All) All.Add(line); }
    }

    public static TheoryData<string, string, string> Faults => new()
    {
        // actor, message it throws on, the phase the run must name
        { "trainer", nameof(InitializeModel), "model initialisation" },
        { "feature-extractor", nameof(ExtractFeatures), "features of epoch 0" },
        { "data-loader", nameof(OpenStream), "features of epoch 0" },
        { "clustering", nameof(ClusterFeatures), "clustering of epoch 0" },
        { "pseudo-label-sampler", nameof(SamplePseudoLabels), "sampling of epoch 0" },
        { "trainer", nameof(TrainEpoch), "training of epoch 0" },
    };

    internal static PipelineProps Inject(string actor, string message)
    {
        var trigger = typeof(ExperimentActor).Assembly.GetTypes().Single(t => t.Name == message);
        var p = PipelineProps.Default;
        return actor switch
        {
            "trainer" => p with { Trainer = l => FaultyActor.Props(TrainerActor.Props(l), trigger) },
            "feature-extractor" => p with { FeatureExtractor = l => FaultyActor.Props(FeaturePassActor.Props(l), trigger) },
            "data-loader" => p with { DataLoader = () => FaultyActor.Props(DataLoaderActor.Props(), trigger) },
            "clustering" => p with { Clustering = () => FaultyActor.Props(KMeansCoordinatorActor.Props(), trigger) },
            "pseudo-label-sampler" => p with { Sampler = () => FaultyActor.Props(PseudoLabelSamplerActor.Props(), trigger) },
            _ => throw new ArgumentException(actor),
        };
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task AFaultInAnyActorAndPhaseEndsTheRunWithAMessage(string actor, string message, string phase)
    {
        using var dir = new TempDir();
        var lines = new Lines();
        using var cts = new CancellationTokenSource();
        var run = ExperimentHost.RunAsync(Small(dir.File("exp")), null, lines, cts.Token, Inject(actor, message));
        var finished = await Task.WhenAny(run, Task.Delay(Limit)) == run;
        if (!finished) { cts.Cancel(); await run; }
        Assert.True(finished, $"the run hung after the {actor} failed on {message}:\n{string.Join("\n", lines.All)}");
        var outcome = await run;
        Assert.False(outcome.Success);
        Assert.False(outcome.Interrupted);
        Assert.Contains(phase, outcome.Message);
        Assert.Contains($"the {actor} actor failed", outcome.Message);
        Assert.Contains($"injected fault on {message}", outcome.Message);
        Assert.DoesNotContain("\n", outcome.Message);
    }
}

/// <summary>The supervisor's policy, actor by actor, with the real actors where the fault is real.</summary>
public class PipelineSupervisorTests : TestKit
{
    /// <summary>The shipped configuration (the supervisor runs compute actors on its compute dispatcher).</summary>
    public PipelineSupervisorTests() : base(HostConfig.Load(null).Hocon) { }

    /// <summary>Stands in for the experiment: forwards what the supervisor sends it to the test.</summary>
    sealed class Relay : ReceiveActor
    {
        public Relay(IActorRef to) => ReceiveAny(m => to.Forward(m));
    }

    [Fact]
    public void AnOverflowInTheLoaderIsReportedToTheExperimentAndTheLoaderServesAgain()
    {
        // The issue's case: an order file whose index does not fit an int made DataLoaderActor.Open throw an
        // OverflowException it did not catch; the loader restarted and the trainer waited forever.
        using var dir = new TempDir();
        NpyFile.WriteInt64(dir.File("order.npy"), [1L << 40]);
        NpyFile.WriteInt64(dir.File("labels.npy"), [0]);
        var supervisor = Sys.ActorOf(PipelineSupervisor.Props(PipelineProps.Default, _ => Props.Create(() => new Relay(TestActor))), "pipeline");
        supervisor.Ask<IActorRef>(GetExperiment.Instance, TimeSpan.FromSeconds(5)).Wait();   // the children exist
        var loader = Sys.ActorSelection("/user/pipeline/data-loader").ResolveOne(TimeSpan.FromSeconds(5)).Result;
        var spec = new DatasetSpec(CliProcess.FashionMnist, Limit: 10);
        loader.Tell(new OpenStream("s", spec, TransformKind.Training, 28, 4, 1, 0, 0, dir.File("order.npy"), dir.File("labels.npy")));
        var failed = ExpectMsg<PipelineActorFailed>(TimeSpan.FromSeconds(10));
        Assert.Equal("data-loader", failed.Actor);
        Assert.StartsWith("OverflowException:", failed.Error);

        loader.Tell(new OpenStream("t", spec, TransformKind.Features, 28, 4, 1, 0, 0));   // restarted, not stopped
        Assert.Equal(10, ExpectMsg<StreamOpened>(TimeSpan.FromSeconds(10)).Samples);
        supervisor.Tell(PoisonPill.Instance);
    }

    [Fact]
    public void AFaultInTheExperimentIsPublishedAndStopsIt()
    {
        Sys.EventStream.Subscribe(TestActor, typeof(ExperimentFailed));
        var supervisor = Sys.ActorOf(PipelineSupervisor.Props(PipelineProps.Default,
            _ => FaultyActor.Props(Props.Create(() => new Relay(TestActor)), typeof(RunExperiment))), "pipeline");
        var experiment = supervisor.Ask<IActorRef>(GetExperiment.Instance, TimeSpan.FromSeconds(5)).Result;
        Watch(experiment);
        experiment.Tell(new RunExperiment(new TrainConfig { Data = "d", Exp = "e" }));
        var failed = ExpectMsg<ExperimentFailed>(TimeSpan.FromSeconds(10));
        Assert.Contains("the experiment actor failed: InvalidOperationException: injected fault on RunExperiment", failed.Error);
        ExpectTerminated(experiment, TimeSpan.FromSeconds(10));   // stopped: a restart would wait for a RunExperiment nobody resends
    }
}

/// <summary>The user guardian's policy as the host sets it: a top-level actor that throws is stopped and reported.</summary>
public class GuardianStrategyTests() : TestKit(
    $"akka.actor.guardian-supervisor-strategy = \"{typeof(ReportingGuardianStrategy).FullName}, {typeof(ReportingGuardianStrategy).Assembly.GetName().Name}\"")
{
    sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    [Fact]
    public void ATopLevelActorThatThrowsIsStoppedAndReported()
    {
        Sys.EventStream.Subscribe(TestActor, typeof(ExperimentFailed));
        var actor = Sys.ActorOf(FaultyActor.Props(Props.Create(() => new Echo()), typeof(RunExperiment)), "log-file");
        Watch(actor);
        actor.Tell(new RunExperiment(new TrainConfig { Data = "d", Exp = "e" }));
        Assert.Equal("log-file failed: InvalidOperationException: injected fault on RunExperiment", ExpectMsg<ExperimentFailed>().Error);
        ExpectTerminated(actor);
    }
}

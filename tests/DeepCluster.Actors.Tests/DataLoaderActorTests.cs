using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>The loader sends batches only when asked, in order, and reports failures naming the cause.</summary>
public class DataLoaderActorTests : TestKit
{
    static readonly DatasetSpec Fmnist = new(CliProcess.FashionMnist, Limit: 100);

    [Fact]
    public void DeliversOnlyWhatIsPulledInOrderThenCompletes()
    {
        var loader = Sys.ActorOf(DataLoaderActor.Props());
        loader.Tell(new OpenStream("s", Fmnist, TransformKind.Features, 28, BatchSize: 32, Workers: 2, Seed: 0, Epoch: 0));
        var opened = ExpectMsg<StreamOpened>();
        Assert.Equal((100, 4, 100), (opened.Samples, opened.Batches, opened.DatasetSize));
        Assert.NotNull(opened.TrueLabels);

        loader.Tell(new PullBatches("s"));
        var first = ExpectMsg<BatchLoaded>();
        Assert.Equal(0, first.Number);
        Assert.Equal(Enumerable.Range(0, 32), first.Indices);
        Assert.Equal(new long[] { 32, 3, 28, 28 }, first.Shape);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));           // nothing unrequested

        loader.Tell(new PullBatches("s", 3));
        var rest = new[] { ExpectMsg<BatchLoaded>(), ExpectMsg<BatchLoaded>(), ExpectMsg<BatchLoaded>() };
        Assert.Equal(new[] { 1, 2, 3 }, rest.Select(b => b.Number));
        Assert.Equal(4, rest[^1].Indices.Length);               // 100 = 3 × 32 + 4: the last batch is short
        Assert.Equal(0, ExpectMsg<StreamCompleted>().Skipped);
    }

    [Fact]
    public void TrainingStreamFollowsTheSampledOrderWithItsLabelsAndCanStartMidEpoch()
    {
        using var dir = new TempDir();
        var order = Enumerable.Range(0, 64).Select(i => (long)(99 - i)).ToArray();
        var labels = order.Select(i => i % 7).ToArray();
        NpyFile.WriteInt64(dir.File("order.npy"), order);
        NpyFile.WriteInt64(dir.File("labels.npy"), labels);
        var loader = Sys.ActorOf(DataLoaderActor.Props());
        loader.Tell(new OpenStream("t", Fmnist, TransformKind.Training, 28, 16, 2, Seed: 3, Epoch: 1,
            dir.File("order.npy"), dir.File("labels.npy"), StartBatch: 2));
        Assert.Equal(4, ExpectMsg<StreamOpened>().Batches);
        loader.Tell(new PullBatches("t", 10));
        var b2 = ExpectMsg<BatchLoaded>();
        Assert.Equal(2, b2.Number);
        Assert.Equal(order.Skip(32).Take(16).Select(i => (int)i), b2.Indices);
        Assert.Equal(labels.Skip(32).Take(16), b2.Labels);
        Assert.Equal(3, ExpectMsg<BatchLoaded>().Number);
        ExpectMsg<StreamCompleted>();
    }

    /// <summary>
    /// A pack the loader opened is unmapped (and its file closed) when the loader stops; it used to stay mapped until
    /// the process ended.
    /// </summary>
    [Fact]
    public void APackItOpenedIsUnmappedWhenTheLoaderStops()
    {
        using var dir = new TempDir();
        DeepCluster.Core.Tests.Evaluation.EvalFixtures.ImageFolder(dir.File("images"), classes: 2, trainPerClass: 4, valPerClass: 1);
        var pack = dir.File("train.dcpack");
        DeepCluster.Core.Data.DatasetPacker.Pack(dir.File("images/train"), pack, new DeepCluster.Core.Data.PackOptions());
        var loader = Sys.ActorOf(DataLoaderActor.Props());
        loader.Tell(new OpenStream("p", new DatasetSpec(pack), TransformKind.Features, 28, BatchSize: 4, Workers: 1, Seed: 0, Epoch: 0));
        ExpectMsg<StreamOpened>();
        loader.Tell(new PullBatches("p"));
        ExpectMsg<BatchLoaded>();
        Assert.True(Mapped(pack), "the pack is not memory-mapped while the loader reads it");
        Watch(loader);
        Sys.Stop(loader);
        ExpectTerminated(loader);
        AwaitCondition(() => !Mapped(pack), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
    }

    /// <summary>True while this process maps <paramref name="path"/> (Linux: a line of /proc/self/maps names it).</summary>
    static bool Mapped(string path) => File.ReadLines("/proc/self/maps").Any(l => l.Contains(Path.GetFullPath(path)));

    [Fact]
    public void AMissingDatasetFailsTheStreamWithItsPath()
    {
        var loader = Sys.ActorOf(DataLoaderActor.Props());
        loader.Tell(new OpenStream("x", new DatasetSpec("/nonexistent/images"), TransformKind.Features, 28, 8, 1, 0, 0));
        Assert.Contains("/nonexistent/images", ExpectMsg<StreamFailed>().Error);
    }
}

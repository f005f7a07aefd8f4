using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// The trainer's batch source with loader workers (<see cref="DistributedLoaderActor"/>, <see cref="LoaderWorkerActor"/>):
/// the batches are those of this node's <see cref="DataLoaderActor"/>, bit for bit, each once and in order, whatever
/// happens to the workers; failures end the stream with a message naming the cause.
/// </summary>
public sealed class DistributedLoaderTests() : TestKit("deepcluster.training.remote-timeout-seconds = 2")
{
    static readonly DatasetSpec Fmnist = new(CliProcess.FashionMnist, Limit: 300);
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    readonly TempDir dir = new();

    /// <summary>A training stream of a shuffled order with pseudo-labels: 300 images, batches of 16 (19, the last short).</summary>
    OpenStream Stream(string id, DatasetSpec? dataset = null)
    {
        var order = Enumerable.Range(0, 300).Select(i => (long)(i * 7 % 300)).ToArray();
        NpyFile.WriteInt64(dir.File("order.npy"), order);
        NpyFile.WriteInt64(dir.File("labels.npy"), order.Select(i => i % 10).ToArray());
        return new OpenStream(id, dataset ?? Fmnist, TransformKind.Training, 28, 16, 2, Seed: 5, Epoch: 3,
            dir.File("order.npy"), dir.File("labels.npy"));
    }

    /// <summary>
    /// Reads a stream the way the trainer does (BatchConsumer: two batches asked ahead, one more per batch used);
    /// <paramref name="afterOpen"/> runs once the stream is open, <paramref name="afterBatch"/> after each batch, given
    /// how many arrived.
    /// </summary>
    List<BatchLoaded> Read(IActorRef source, OpenStream open, Action<int>? afterBatch = null, Action? afterOpen = null)
    {
        source.Tell(open);
        var opened = ExpectMsg<StreamOpened>(Wait);
        Assert.Equal((300, 19, 300), (opened.Samples, opened.Batches, opened.DatasetSize));
        afterOpen?.Invoke();
        source.Tell(new PullBatches(open.StreamId, 2));
        var batches = new List<BatchLoaded>();
        while (true)
        {
            var m = ExpectMsg<object>(Wait);
            if (m is StreamCompleted c) { Assert.Equal(0, c.Skipped); return batches; }
            var b = Assert.IsType<BatchLoaded>(m);
            Assert.Equal(open.StreamId, b.StreamId);
            batches.Add(b);
            afterBatch?.Invoke(batches.Count);
            source.Tell(new PullBatches(open.StreamId));
        }
    }

    static void Same(IReadOnlyList<BatchLoaded> expected, IReadOnlyList<BatchLoaded> actual)
    {
        Assert.Equal(expected.Select(b => b.Number), actual.Select(b => b.Number));   // each batch once, in order
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(expected[i].Indices, actual[i].Indices);
            Assert.Equal(expected[i].Labels, actual[i].Labels);
            Assert.True(expected[i].Images.AsSpan().SequenceEqual(actual[i].Images), $"batch {i}: other pixels");
        }
    }

    List<BatchLoaded> Local() => Read(Sys.ActorOf(DataLoaderActor.Props()), Stream("local"));

    string BatchesDir => DistributedLoaderActor.BatchesDir(dir.File("order.npy"));

    [Fact]
    public void TwoLoaderWorkersMakeTheLocalLoadersBatchesBitForBitOnceInOrder()
    {
        var expected = Local();
        Assert.Equal(Enumerable.Range(0, 19), expected.Select(b => b.Number));
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.On));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 2));
        Same(expected, Read(source, Stream("remote")));
        Assert.Empty(Directory.GetFiles(BatchesDir));            // every batch file read and removed
    }

    [Fact]
    public void WorkersKilledMidStreamGiveTheirBatchesToAnotherAndEveryBatchArrivesOnce()
    {
        var expected = Local();
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.On));
        // A worker that dies while it holds batches (it never answers: the stream waits on it until it stops) ...
        var dying = CreateTestProbe();
        source.Tell(new LoaderWorkerAvailable(dying.Ref, Slots: 2));
        // ... and a real one stopped after a few batches, whatever it holds then.
        var victim = Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        var batches = EventFilter.Warning(contains: $"{dying.Ref.Path} stopped holding batch").ExpectOne(Wait,
            () => Read(source, Stream("remote"), n => { if (n == 4) Sys.Stop(victim); }, afterOpen: () =>
            {
                dying.ExpectMsg<MakeBatch>(Wait);
                Sys.Stop(dying.Ref);
            }));
        Same(expected, batches);
        Assert.Empty(Directory.GetFiles(BatchesDir));
    }

    [Fact]
    public void AWorkerThatNeverAnswersIsGivenUpAndThisNodeMakesItsBatches()
    {
        var expected = Local();
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.On));
        var silent = CreateTestProbe();
        source.Tell(new LoaderWorkerAvailable(silent.Ref, Slots: 4));
        // Stale files of a killed run are removed when the stream opens.
        Directory.CreateDirectory(BatchesDir);
        File.WriteAllText(Path.Combine(BatchesDir, "old-0000003-1.batch"), "left by a killed run");
        var batches = EventFilter.Warning(contains: $"{silent.Ref.Path} sent nothing for 2 s").ExpectOne(Wait, () => Read(source, Stream("remote")));
        Same(expected, batches);
        Assert.Equal(4, silent.ReceiveN(4).OfType<MakeBatch>().Count());   // it was given batches, then given up (2 s)
        Assert.Empty(Directory.GetFiles(BatchesDir));
    }

    [Fact]
    public void ABadDatasetPathFailsTheStreamNamingIt()
    {
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.On));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        source.Tell(Stream("bad", new DatasetSpec("/nonexistent/images")));
        Assert.Contains("/nonexistent/images", ExpectMsg<StreamFailed>(Wait).Error);
    }

    [Fact]
    public void AnOrderFileTheWorkersCannotUseFailsTheStreamNamingIt()
    {
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.On));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        var open = Stream("bad");
        NpyFile.WriteInt64(open.OrderPath!, [0, 1, 300]);
        source.Tell(open);
        Assert.Contains(open.OrderPath!, ExpectMsg<StreamFailed>(Wait).Error);
    }

    [Fact]
    public void AutoWithWorkersOfThisNodeOnlyLeavesTheBatchesToThisNodesLoader()
    {
        var expected = Local();
        var source = Sys.ActorOf(DistributedLoaderActor.Props(Sys.ActorOf(DataLoaderActor.Props()), RemoteLoaders.Auto));
        Sys.ActorOf(LoaderWorkerActor.Props(source, slots: 1));
        Same(expected, Read(source, Stream("auto")));
        Assert.False(Directory.Exists(BatchesDir));              // no batch went through a file
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) dir.Dispose();
    }
}

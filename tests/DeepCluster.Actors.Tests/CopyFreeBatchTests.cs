using Akka.Actor;
using Akka.TestKit.Xunit2;
using DeepCluster.Actors.DataLoading;
using DeepCluster.Core.Data;
using DeepCluster.Core.IO;
using DeepCluster.Core.Tests.Support;

namespace DeepCluster.Actors.Tests;

/// <summary>
/// On one node a batch reaches its consumer without a copy: the message carries the array the decoders wrote, with the
/// same content as the transform gives each sample, and the consumer's <see cref="BatchLoaded.Release"/> gives it back
/// to the loader's pool, whether the stream runs to its end or is closed early.
/// </summary>
public class CopyFreeBatchTests : TestKit
{
    static readonly DatasetSpec Fmnist = new(CliProcess.FashionMnist, Limit: 200);

    [Fact]
    public void ABatchCarriesTheDecodedArrayWithTheTransformsPixelsAndItComesBack()
    {
        using var dir = new TempDir();
        var order = Enumerable.Range(0, 120).Select(i => (i * 37) % 200).ToArray();
        NpyFile.WriteInt64(dir.File("order.npy"), order.Select(i => (long)i).ToArray());
        NpyFile.WriteInt64(dir.File("labels.npy"), order.Select(i => (long)(i % 9)).ToArray());
        var pool = new BatchBufferPool();
        var loader = Sys.ActorOf(DataLoaderActor.Props(pool));
        loader.Tell(new OpenStream("t", Fmnist, TransformKind.Training, 28, 16, 2, Seed: 11, Epoch: 2,
            dir.File("order.npy"), dir.File("labels.npy")));
        Assert.Equal(8, ExpectMsg<StreamOpened>().Batches);       // 120 = 7 × 16 + 8

        var dataset = DatasetSource.Open(CliProcess.FashionMnist, limit: 200);
        var transform = DeepClusterTransforms.Training(28);
        var arrays = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        for (int n = 0; n < 8; n++)
        {
            loader.Tell(new PullBatches("t"));
            var b = ExpectMsg<BatchLoaded>();
            Assert.Equal(n, b.Number);
            Assert.True(pool.Outstanding >= 1);
            for (int i = 0; i < b.Indices.Length; i++)
            {
                int p = n * 16 + i;
                var expected = transform.Apply(dataset.Load(order[p]), SampleRng.For(11, 2, p), out var shape);
                Assert.Equal(expected, b.Images.AsSpan(i * shape.Length, shape.Length).ToArray());
            }
            using (var x = b.ImagesTensor())
                Assert.Equal(b.Images, x.data<float>().ToArray());
            arrays.Add(b.Images);
            b.Release();
        }
        ExpectMsg<StreamCompleted>();
        AwaitAssert(() => Assert.Equal(0, pool.Outstanding));
        Assert.True(arrays.Count < 8, $"{arrays.Count} arrays for 8 batches: none was reused");
    }

    [Fact]
    public void ClosingAStreamEarlyGivesEveryArrayBack()
    {
        var pool = new BatchBufferPool();
        var loader = Sys.ActorOf(DataLoaderActor.Props(pool));
        loader.Tell(new OpenStream("f", Fmnist, TransformKind.Features, 28, 16, 2, 0, 0));
        ExpectMsg<StreamOpened>();
        loader.Tell(new PullBatches("f", 2));
        var got = new[] { ExpectMsg<BatchLoaded>(), ExpectMsg<BatchLoaded>() };
        AwaitAssert(() => Assert.True(pool.Outstanding > 2));      // more are decoded ahead
        loader.Tell(new CloseStream("f"));
        foreach (var b in got) b.Release();
        AwaitAssert(() => Assert.Equal(0, pool.Outstanding));
    }
}

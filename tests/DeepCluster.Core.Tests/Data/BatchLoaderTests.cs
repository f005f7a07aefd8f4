using System.Diagnostics;
using DeepCluster.Core.Data;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

public class BatchLoaderTests
{
    readonly ITestOutputHelper _output;
    public BatchLoaderTests(ITestOutputHelper output) { _output = output; TorchRuntime.EnsureLoaded(); }

    static Compose Augment(int size = 16) => new(new RandomResizedCrop(size), new RandomHorizontalFlip(), new ToTensor(), Normalize.ImageNet());

    static MemoryDataset Images(int n, int[]? labels = null, int failAt = -1) =>
        new(Enumerable.Range(0, n).Select(i => RandomImage(20 + i % 7, 18 + i % 5, i)).ToArray(), labels, failAt);

    static int[] Shuffled(int n, int seed)
    {
        var order = Enumerable.Range(0, n).Concat(Enumerable.Range(0, n / 3)).ToArray();   // repeats, like sampling with replacement
        new Random(seed).Shuffle(order);
        return order;
    }

    static List<(int[] Indices, int[] Positions, float[] Images, long[] Labels, long[] Shape)> Collect(BatchLoader loader)
    {
        var result = new List<(int[], int[], float[], long[], long[])>();
        foreach (var b in loader)
            using (b)
                result.Add((b.Indices, b.Positions, b.Images.data<float>().ToArray(), b.Labels.data<long>().ToArray(), b.Images.shape));
        return result;
    }

    [Fact]
    public void OrderAndContentsDoNotDependOnWorkers()
    {
        var ds = Images(50, labels: Enumerable.Range(0, 50).Select(i => i % 4).ToArray());
        var order = Shuffled(50, 1);
        var one = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 1, seed: 5, epoch: 2));
        var four = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 4, prefetch: 4, seed: 5, epoch: 2));
        Assert.Equal(one.Count, four.Count);
        Assert.Equal((order.Length + 7) / 8, one.Count);
        for (int b = 0; b < one.Count; b++)
        {
            Assert.Equal(one[b].Indices, four[b].Indices);
            Assert.Equal(one[b].Images, four[b].Images);
            Assert.Equal(one[b].Labels, four[b].Labels);
        }
        Assert.Equal(order, one.SelectMany(b => b.Indices));
        Assert.Equal(order.Select(i => (long)(i % 4)), one.SelectMany(b => b.Labels));
        Assert.Equal([order.Length % 8, 3, 16, 16], one[^1].Shape);       // drop_last=false keeps the short batch

        // Contents equal the transform applied directly with the sample's (seed, epoch, position) stream.
        var t = Augment();
        for (int p = 0; p < order.Length; p++)
        {
            var expected = t.Apply(ds.Load(order[p]), SampleRng.For(5, 2, p), out var shape);
            Assert.Equal(expected, one[p / 8].Images.AsSpan(p % 8 * shape.Length, shape.Length).ToArray());
        }
        // Another epoch augments differently.
        var other = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, seed: 5, epoch: 3));
        Assert.NotEqual(one[0].Images, other[0].Images);
    }

    [Fact]
    public void StartingAtABatchGivesTheRestOfTheEpochUnchanged()
    {
        var ds = Images(40);
        var order = Shuffled(40, 2);
        var full = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, seed: 9, epoch: 1));
        var tail = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, seed: 9, epoch: 1, startBatch: 3));
        Assert.Equal(full.Count - 3, tail.Count);
        for (int b = 0; b < tail.Count; b++)
        {
            Assert.Equal(full[b + 3].Indices, tail[b].Indices);
            Assert.Equal(full[b + 3].Images, tail[b].Images);
        }
    }

    [Fact]
    public void ARunOfBatchesIsThoseBatchesOfTheWholeEpoch()
    {
        var ds = Images(40);
        var order = Shuffled(40, 2);
        var full = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, seed: 9, epoch: 1));
        var run = Collect(new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, seed: 9, epoch: 1, startBatch: 2, endBatch: 4));
        Assert.Equal(2, run.Count);
        for (int b = 0; b < run.Count; b++)
        {
            Assert.Equal(full[b + 2].Indices, run[b].Indices);
            Assert.Equal(full[b + 2].Images, run[b].Images);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(ds, Augment(), order, batchSize: 8, startBatch: 3, endBatch: 2));
    }

    [Fact]
    public async Task DropLastPositionLabelsAndMultiCrop()
    {
        var ds = Images(10);
        var loader = new BatchLoader(ds, Augment(), null, batchSize: 4, dropLast: true, labels: Enumerable.Range(100, 10).ToArray());
        var batches = new List<long[]>();
        await foreach (var b in loader) using (b) batches.Add(b.Labels.data<long>().ToArray());
        Assert.Equal([[100, 101, 102, 103], [104, 105, 106, 107]], batches);

        var ten = new BatchLoader(ds, new Compose(new Resize(20), new TenCrop(12), new ToTensor()), null, batchSize: 3);
        foreach (var b in ten) using (b)
        {
            Assert.Equal(b.Count == 3 ? [3L, 10, 3, 12, 12] : [1L, 10, 3, 12, 12], b.Images.shape);
            Assert.Equal(Enumerable.Repeat(-1L, b.Count), b.Labels.data<long>().ToArray());   // no labels anywhere
        }
    }

    [Fact]
    public async Task ProducerStaysWithinPrefetch()
    {
        var ds = Images(40);
        const int batch = 2, prefetch = 3;
        var loader = new BatchLoader(ds, Augment(), null, batch, workers: 4, prefetch: prefetch);
        int b = 0, maxAheadSeen = 0;
        await foreach (var x in loader)
        {
            using (x)
            {
                // When batch b is handed over, at most `prefetch` later batches may have been started.
                int started = (ds.Loads + batch - 1) / batch;
                Assert.True(started <= b + 1 + prefetch, $"batch {b}: {started} batches started");
                maxAheadSeen = Math.Max(maxAheadSeen, started - (b + 1));
                await Task.Delay(30);     // slow consumer
                b++;
            }
        }
        Assert.Equal(20, b);
        Assert.InRange(loader.MaxAhead, 1, prefetch);
        _output.WriteLine($"max batches ahead: counter {loader.MaxAhead}, observed {maxAheadSeen}");
        Assert.True(maxAheadSeen >= prefetch - 1, $"prefetch not used: {maxAheadSeen}");
    }

    [Fact]
    public void WorkerErrorNamesTheFileAndSkipCountsIt()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 12; i++)
        {
            Directory.CreateDirectory(dir.File($"c{i % 2}"));
            var png = ImageCodec.EncodePng(RandomImage(24, 24, i));
            File.WriteAllBytes(dir.File($"c{i % 2}/{i:D2}.png"), i == 7 ? png[..(png.Length / 2)] : png);
        }
        var bad = dir.File("c1/07.png");
        var ds = new ImageFolder(dir.Path);
        var loader = new BatchLoader(ds, Augment(), null, batchSize: 4, workers: 3);
        int yielded = 0;
        var e = Assert.ThrowsAny<Exception>(() => { foreach (var b in loader) using (b) yielded++; });
        _output.WriteLine(e.Message);
        Assert.Contains(bad, e.Message);
        Assert.Equal(Array.IndexOf(ds.Paths.ToArray(), bad) / 4, yielded);     // earlier batches arrive first, in order

        var skipping = new BatchLoader(ds, Augment(), null, batchSize: 4, workers: 3, skipBadFiles: true);
        var all = Collect(skipping);
        Assert.Equal(1, skipping.SkippedCount);
        Assert.Equal([bad], skipping.SkippedFiles);
        Assert.Equal(11, all.Sum(b => b.Indices.Length));
        Assert.DoesNotContain(Array.IndexOf(ds.Paths.ToArray(), bad), all.SelectMany(b => b.Indices));
    }

    [Fact]
    public async Task CancellationStopsTheWorkers()
    {
        var ds = Images(200);
        using var cts = new CancellationTokenSource();
        var loader = new BatchLoader(ds, Augment(), null, batchSize: 4, workers: 2, prefetch: 2);
        int n = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var b in loader.WithCancellation(cts.Token)) using (b) { if (++n == 3) cts.Cancel(); }
        });
        int loads = ds.Loads;
        await Task.Delay(100);
        Assert.Equal(loads, ds.Loads);            // nothing runs after cancellation
        Assert.True(loads <= (3 + 2 + 1) * 4);
    }

    [Fact]
    public void ThroughputOnFashionMnist10k()
    {
        var ds = IdxDataset.FromFolder(IdxDatasetTests.FashionMnist, "train", limit: 10_000);
        var order = Enumerable.Range(0, ds.Count).ToArray();
        new Random(0).Shuffle(order);
        var transform = new Compose(new RandomResizedCrop(28), new RandomHorizontalFlip(), new ToTensor(), Normalize.ImageNet());
        var loader = new BatchLoader(ds, transform, order, batchSize: 256, workers: 2, prefetch: 3, seed: 1);
        foreach (var b in loader) { b.Dispose(); break; }  // warm-up (JIT)
        var sw = Stopwatch.StartNew();
        int n = 0;
        foreach (var b in loader) using (b) n += b.Count;
        sw.Stop();
        double rate = n / sw.Elapsed.TotalSeconds;
        _output.WriteLine($"fmnist-10k RandomResizedCrop(28)+flip+normalize, workers=2, batch 256: {rate:F0} img/s ({sw.Elapsed.TotalSeconds:F2} s)");
        Assert.Equal(10_000, n);
        Assert.True(rate > 1000, $"{rate:F0} img/s");
    }
}

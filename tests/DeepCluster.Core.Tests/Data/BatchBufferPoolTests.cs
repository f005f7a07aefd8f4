using DeepCluster.Core.Data;
using DeepCluster.Core.Native;
using static DeepCluster.Core.Tests.Data.DataTestHelpers;

namespace DeepCluster.Core.Tests.Data;

/// <summary>The loader decodes into pooled arrays that its batches view without a copy, and every array comes back.</summary>
public class BatchBufferPoolTests
{
    public BatchBufferPoolTests() => TorchRuntime.EnsureLoaded();

    static MemoryDataset Images(int n) => new(Enumerable.Range(0, n).Select(i => RandomImage(20 + i % 7, 18 + i % 5, i)).ToArray());

    static Compose Augment() => new(new RandomResizedCrop(16), new RandomHorizontalFlip(), new ToTensor(), Normalize.ImageNet());

    [Fact]
    public void ArraysAreReusedByLengthAndOnlyTheirOwnComeBackOnce()
    {
        var pool = new BatchBufferPool();
        var a = pool.Rent(12);
        Assert.Equal(12, a.Length);
        Assert.Equal(1, pool.Outstanding);
        BatchBufferPool.ReturnToOwner(a);
        BatchBufferPool.ReturnToOwner(a);                   // twice: ignored
        BatchBufferPool.ReturnToOwner(new float[12]);       // of no pool (e.g. deserialised): ignored
        Assert.Equal(0, pool.Outstanding);
        Assert.Same(a, pool.Rent(12));
        Assert.NotSame(a, pool.Rent(12));
        Assert.Equal(11, pool.Rent(11).Length);
        Assert.Equal(3, pool.Outstanding);

        var gone = pool.Rent(5);
        BatchBufferPool.Forget(gone);                       // e.g. serialised to another node
        BatchBufferPool.ReturnToOwner(gone);
        Assert.Equal(3, pool.Outstanding);
        Assert.NotSame(gone, pool.Rent(5));
    }

    [Fact]
    public void BatchImagesViewThePooledArrayWhichComesBackWhenTheEpochEndsOrStopsEarly()
    {
        var pool = new BatchBufferPool();
        var ds = Images(70);
        var order = Enumerable.Range(0, 70).Reverse().ToArray();
        var t = Augment();
        var seen = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        int batches = 0;
        foreach (var b in new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, prefetch: 2, seed: 4, epoch: 1, pool: pool))
            using (b)
            {
                var flat = b.Images.data<float>().ToArray();
                for (int i = 0; i < b.Count; i++)
                {
                    int p = b.Number * 8 + i;
                    var expected = t.Apply(ds.Load(order[p]), SampleRng.For(4, 1, p), out var shape);
                    Assert.Equal(expected, flat.AsSpan(i * shape.Length, shape.Length).ToArray());
                }
                batches++;
                if (b.Number == 3)
                {
                    // the tensor is a view of the array the batch hands over (TakeImages): no copy anywhere
                    var array = b.TakeImages();
                    Assert.Equal(flat, array);
                    seen.Add(array);
                    BatchBufferPool.ReturnToOwner(array);
                }
            }
        Assert.Equal(9, batches);                           // 70 = 8 × 8 + 6
        Assert.Equal(0, pool.Outstanding);
        Assert.True(pool.Rented >= 9);

        // Stopping after two batches: those being decoded or waiting are given back too.
        foreach (var b in new BatchLoader(ds, Augment(), order, batchSize: 8, workers: 2, prefetch: 3, pool: pool))
            using (b)
                if (b.Number == 1) break;
        Assert.Equal(0, pool.Outstanding);
    }
}

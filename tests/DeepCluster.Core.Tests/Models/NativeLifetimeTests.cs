using DeepCluster.Core.IO;
using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using DeepCluster.Core.Training;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Models;

/// <summary>
/// What a training process does before and between its steps (build a model, checkpoint it, load it back) must leave
/// no tensor for the .NET finalizer: a finalizer frees its tensor on the finalizer thread at a moment the GC picks,
/// concurrently with the compute thread's step. Counted with TorchSharp's live-tensor counter, which a finalizer
/// lowers when it frees a tensor that still held a native handle (this test assembly runs its tests one at a time).
/// </summary>
public class NativeLifetimeTests
{
    public NativeLifetimeTests() => TorchRuntime.EnsureLoaded();

    /// <summary>How many tensors that <paramref name="work"/> left behind the finalizer then had to free.</summary>
    static long FreedByFinalizer(Action work)
    {
        Collect();
        work();
        var left = Tensor.TotalCount;
        Collect();
        return left - Tensor.TotalCount;
    }

    static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BuildingAndDisposingAModelLeavesNoTensorBehind(bool sobel)
    {
        Assert.Equal(0, FreedByFinalizer(() => ModelFactory.Create("alexnet_small", sobel, numClasses: 0).Dispose()));
    }

    [Fact]
    public void CheckpointingAndReloadingLeavesNoTensorBehind()
    {
        using var dir = new TempDir();
        var path = dir.File("checkpoint.pth.tar");
        manual_seed(1);
        using var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        using var trainer = new Trainer(model, new SgdSettings(), CPU);
        trainer.ResetHead(3);
        using (var x = rand(4, 3, 28, 28))
        using (var y = tensor(new long[] { 0, 1, 2, 0 }))
            trainer.Step(x, y);                                          // momentum buffers exist from here on

        Assert.Equal(0, FreedByFinalizer(() =>
        {
            ModelFiles.Save(path, model, trainer.Optimizer, 1, "alexnet_small");
            ModelFiles.Restore(path, model, trainer.Optimizer, includeHead: true, expectedArch: "alexnet_small");
            using (ModelFiles.LoadModel(path, "alexnet_small", sobel: true, CPU)) { }
            foreach (var t in StateDictLoader.Load(path).Values) t.Dispose();
        }));
    }

    [Fact]
    public void ALoadThatFailsHalfWayLeavesNoTensorBehind()
    {
        using var dir = new TempDir();
        var path = dir.File("checkpoint.pth.tar");
        using (var model = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0))
        using (var trainer = new Trainer(model, new SgdSettings(), CPU))
            ModelFiles.Save(path, model, trainer.Optimizer, 1, "alexnet_small");
        Assert.Equal(0, FreedByFinalizer(() => Assert.ThrowsAny<InvalidDataException>(() => NativeLifetime.LoadOwned<object>(() =>
        {
            using var data = Checkpoint.Load(path);   // owned and disposed...
            _ = zeros(3);                              // ...but this one is only in the scope
            throw new InvalidDataException("cut short");
        }))));
    }
}

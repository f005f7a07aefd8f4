using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Tests.Support;
using DeepCluster.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Training;

public class TrainerTests
{
    public TrainerTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void LearnsSeparablePseudoLabelsAndKeepsSobelFrozen()
    {
        manual_seed(3);
        using var model = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        var sobelBefore = model.state_dict()["sobel.1.weight"].clone();
        using var trainer = new Trainer(model, new SgdSettings(0.05, 0.9, -5), CPU);
        trainer.ResetHead(2);
        // Two pseudo-classes: bright top half vs bright left half.
        using var x = zeros(32, 3, 28, 28);
        for (int i = 0; i < 32; i++)
            if (i % 2 == 0) x[i, TensorIndex.Colon, TensorIndex.Slice(0, 14)] = tensor(1f);
            else x[i, TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(0, 14)] = tensor(1f);
        using var y = arange(32, dtype: int64) % 2;
        var first = trainer.Step(x, y);
        float last = first;
        for (int s = 0; s < 30; s++) last = trainer.Step(x, y);
        Assert.True(last < 0.5 * first, $"loss {first} -> {last}");
        Assert.Equal(0f, (model.state_dict()["sobel.1.weight"] - sobelBefore).abs().max().item<float>());
    }

    [Fact]
    public void ResetHeadInstallsAFreshHeadOfTheRightSizeEachEpoch()
    {
        using var model = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0);
        using var trainer = new Trainer(model, new SgdSettings(), CPU);
        trainer.ResetHead(7);
        Assert.Equal(new long[] { 7, 512 }, model.TopLayer!.weight!.shape);
        trainer.ResetHead(4);
        Assert.Equal(new long[] { 4, 512 }, model.TopLayer!.weight!.shape);
        Assert.Equal(0f, model.TopLayer.bias!.abs().max().item<float>());
        Assert.InRange(model.TopLayer.weight.std().item<float>(), 0.008, 0.012);
        // The trunk optimiser covers the trunk only: features + classifier, frozen Sobel and head excluded.
        var trunk = model.TrunkParameters().Sum(p => p.numel());
        var optimised = trainer.Optimizer.parameters().Sum(p => p.numel());
        Assert.Equal(trunk, optimised);
    }

    /// <summary>
    /// What exact resume rests on: the head and the dropout masks depend only on their seeds, not on what the default
    /// generator gave out before, and a model continued from its checkpoint (weights, head, BN statistics, momentum
    /// buffers) takes bit-identical steps to the one continued in memory.
    /// </summary>
    [Fact]
    public void ContinuingFromACheckpointWithTheSameSeedsIsBitIdenticalToContinuingInMemory()
    {
        using var dir = new TempDir();
        var settings = new SgdSettings(0.05, 0.9, -5);
        using var x = randn(16, 3, 28, 28, generator: new Generator(5));
        using var y = randint(0, 6, [16], dtype: int64, generator: new Generator(6));

        manual_seed(1);
        using var live = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        using var trainer = new Trainer(live, settings, CPU);
        trainer.ResetHead(6, TrainingSeeds.Head(9, 0));
        for (int i = 0; i < 3; i++) trainer.Step(x, y, TrainingSeeds.Dropout(9, 0, i));   // momentum is non-trivial
        var path = dir.File("checkpoint.pth.tar");
        ModelFiles.Save(path, live, trainer.Optimizer, 1, "alexnet_small");

        // A "resumed process": a fresh model whose construction drew other numbers, the default generator elsewhere.
        manual_seed(12345);
        using var resumed = ModelFactory.Create("alexnet_small", sobel: true, numClasses: 0);
        using var other = new Trainer(resumed, settings, CPU);
        other.ResetHead(6, TrainingSeeds.Head(9, 0));
        ModelFiles.Restore(path, resumed, other.Optimizer, includeHead: true, expectedArch: "alexnet_small");
        using (randn(1000)) { }

        for (int i = 3; i < 6; i++)
        {
            var a = trainer.Step(x, y, TrainingSeeds.Dropout(9, 0, i));
            var b = other.Step(x, y, TrainingSeeds.Dropout(9, 0, i));
            Assert.Equal(BitConverter.SingleToInt32Bits(a), BitConverter.SingleToInt32Bits(b));
        }
        var expected = live.state_dict();
        foreach (var (name, t) in resumed.state_dict())
            Assert.True(t.eq(expected[name]).all().item<bool>(), $"{name} differs");

        // The next epoch's head: the same for the same (seed, epoch), whatever was drawn before; another epoch's differs.
        trainer.ResetHead(6, TrainingSeeds.Head(9, 1));
        var head = live.TopLayer!.weight!.clone();
        using (randn(1000)) { }
        other.ResetHead(6, TrainingSeeds.Head(9, 1));
        Assert.True(resumed.TopLayer!.weight!.eq(head).all().item<bool>());
        other.ResetHead(6, TrainingSeeds.Head(9, 2));
        Assert.False(resumed.TopLayer!.weight!.eq(head).all().item<bool>());
        Assert.InRange(resumed.TopLayer.weight.std().item<float>(), 0.008, 0.012);
    }

    [Fact]
    public void FirstNonFiniteNamesADivergedWeight()
    {
        manual_seed(2);
        using var model = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0);
        using var trainer = new Trainer(model, new SgdSettings(), CPU);
        trainer.ResetHead(3, seed: 1);
        Assert.Null(trainer.FirstNonFinite());
        using (no_grad()) model.TopLayer!.bias![1] = float.NaN;
        Assert.Equal("top_layer.bias", trainer.FirstNonFinite());
    }

    [Fact]
    public void TrainingSeedsArePureAndDistinct()
    {
        Assert.Equal(TrainingSeeds.Dropout(5, 2, 7), TrainingSeeds.Dropout(5, 2, 7));
        var all = new HashSet<long>();
        for (int e = 0; e < 4; e++)
        {
            Assert.True(all.Add(TrainingSeeds.Head(5, e)));
            for (int i = 0; i < 50; i++) Assert.True(all.Add(TrainingSeeds.Dropout(5, e, i)));
        }
        Assert.NotEqual(TrainingSeeds.Head(5, 0), TrainingSeeds.Head(6, 0));
        Assert.All(all, s => Assert.True(s >= 0));
    }
}

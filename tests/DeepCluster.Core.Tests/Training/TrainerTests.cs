using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
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
}

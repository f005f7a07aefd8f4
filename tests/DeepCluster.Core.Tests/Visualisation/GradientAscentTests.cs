using DeepCluster.Core.Models;
using DeepCluster.Core.Native;
using DeepCluster.Core.Visualisation;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Visualisation;

public class GradientAscentTests
{
    public GradientAscentTests() => TorchRuntime.EnsureLoaded();

    static DeepClusterNet Model(long seed = 7)
    {
        using (random.manual_seed(seed)) { }
        var model = ModelFactory.Create("alexnet_small", sobel: false, numClasses: 0);
        model.eval();
        return model;
    }

    /// <summary>
    /// A short run at a small step: every iteration raises the objective (the target's log-softmax among the layer's
    /// averaged filters) and the target filter's own averaged activation, which ends far above where the noise started.
    /// </summary>
    [Fact]
    public void TargetActivationRisesAtEveryIteration()
    {
        using var model = Model();
        var tap = new LayerTap(model, 2);
        var ascent = new GradientAscent(tap, new GradientAscentSettings(Lr: 1, Iterations: 25, ImageSize: 32, Seed: 1), CPU);
        var results = ascent.Optimise([0, 5, 11]);
        Assert.Equal([0, 5, 11], results.Select(r => r.Filter));
        foreach (var r in results)
        {
            Assert.Equal(26, r.Activation.Length);
            Assert.Equal(0, r.PreReluIterations);
            for (int it = 1; it < r.Activation.Length; it++)
            {
                Assert.True(r.Objective[it] > r.Objective[it - 1], $"filter {r.Filter}: objective {r.Objective[it - 1]} → {r.Objective[it]} at iteration {it}");
                Assert.True(r.Activation[it] > r.Activation[it - 1], $"filter {r.Filter}: activation {r.Activation[it - 1]} → {r.Activation[it]} at iteration {it}");
            }
            Assert.True(r.Activation[^1] > 2 * r.Activation[0], $"filter {r.Filter}: activation {string.Join(' ', r.Activation)} objective {string.Join(' ', r.Objective)}");
            Assert.Equal(32, r.Image.Width);
            Assert.Equal(32, r.Image.Height);
        }
    }

    /// <summary>Filters optimised in one batch follow the path each follows alone (the batch only saves time).</summary>
    [Fact]
    public void AFilterInABatchFollowsThePathItFollowsAlone()
    {
        using var model = Model();
        var settings = new GradientAscentSettings(Iterations: 12, ImageSize: 32, Seed: 4);
        var ascent = new GradientAscent(new LayerTap(model, 3), settings, CPU);
        var together = ascent.Optimise([2, 9, 30]).Single(r => r.Filter == 9);
        var alone = ascent.Optimise([9]).Single();
        for (int it = 0; it < alone.Objective.Length; it++)
            Assert.Equal(alone.Objective[it], together.Objective[it], 1e-3f);
        Assert.True(alone.Image.Pixels.Zip(together.Image.Pixels).Count(p => Math.Abs(p.Item1 - p.Item2) > 1) < alone.Image.Pixels.Length / 100);
    }

    /// <summary>
    /// A filter that is zero after its ReLU is optimised on the conv output instead, as the published forward does; its
    /// activation is then the conv's own output (here a constant −1: no weights, bias −1), not the BatchNorm's.
    /// </summary>
    [Fact]
    public void ADeadFilterFallsBackOnTheConvOutput()
    {
        using var model = Model();
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            named["features.4.weight"][3].zero_();
            named["features.4.bias"][3].fill_(-1);
        }
        var ascent = new GradientAscent(new LayerTap(model, 2), new GradientAscentSettings(Iterations: 6, ImageSize: 32), CPU);
        var results = ascent.Optimise([3, 4]);
        Assert.Equal(6, results[0].PreReluIterations);
        Assert.All(results[0].Activation, a => Assert.Equal(-1f, a, 1e-5f));
        Assert.Equal(0, results[1].PreReluIterations);
    }

    [Fact]
    public void NoiseIsThePublishedStartAndDependsOnlyOnSeedAndFilter()
    {
        var a = GradientAscent.Noise(3, 7, 64);
        Assert.Equal(a, GradientAscent.Noise(3, 7, 64));
        Assert.NotEqual(a, GradientAscent.Noise(3, 8, 64));
        double mean = a.Average(v => (double)v), std = Math.Sqrt(a.Average(v => (v - mean) * (v - mean)));
        Assert.Equal(128 / 255.0, mean, 2e-3);
        Assert.Equal(20 / 255.0, std, 2e-3);
    }

    [Fact]
    public void TooSmallAnImageForTheLayerIsOneClearError()
    {
        using var model = Model();
        var ascent = new GradientAscent(new LayerTap(model, 5), new GradientAscentSettings(ImageSize: 1), CPU);
        var e = Assert.Throws<ArgumentException>(ascent.CheckImageSize);
        Assert.StartsWith("--idim 1: too small for conv 5 of alexnet_small", e.Message);
    }

    [Theory]
    [InlineData("alexnet", 5, 256)]
    [InlineData("alexnet", 1, 96)]
    [InlineData("vgg16", 13, 512)]
    [InlineData("vgg16", 2, 64)]
    [InlineData("alexnet_small", 3, 128)]
    public void ConvLayersAreCountedAsThePublishedTable(string arch, int conv, int channels)
    {
        using var model = ModelFactory.Create(arch, sobel: false, numClasses: 0);
        Assert.Equal(channels, new LayerTap(model, conv).Channels);
    }

    [Theory]
    [InlineData("alexnet", 6, "--conv 6: alexnet has conv layers 1 to 5.")]
    [InlineData("vgg16", 14, "--conv 14: vgg16 has conv layers 1 to 13.")]
    [InlineData("alexnet_small", 0, "--conv 0: alexnet_small has conv layers 1 to 5.")]
    public void AConvOutsideTheModelIsRefused(string arch, int conv, string message)
    {
        using var model = ModelFactory.Create(arch, sobel: false, numClasses: 0);
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => new LayerTap(model, conv)).Message);
    }
}

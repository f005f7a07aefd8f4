using DeepCluster.Core.Evaluation;
using DeepCluster.Core.Native;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Evaluation;

public class LinearProbeMathTests
{
    public LinearProbeMathTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void LearningRateFollowsThePublishedDecay()
    {
        Assert.Equal(0.01, LearningRateDecay.At(0.01, 1e-4, 0), 15);
        // lr0 / sqrt(1 + lr0·wd·t): 0.01 / sqrt(1 + 1e-6 · 10^6) = 0.01 / sqrt(2)
        Assert.Equal(0.01 / Math.Sqrt(2), LearningRateDecay.At(0.01, 1e-4, 1_000_000), 15);
        Assert.Equal(0.1 / Math.Sqrt(1.3), LearningRateDecay.At(0.1, 1e-3, 3000), 15);   // 1 + 0.1·0.001·3000 = 1.3
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateDecay.At(0.01, 1e-4, -1));
    }

    [Fact]
    public void TopKCountsTargetsAmongTheHighestScores()
    {
        using var scores = tensor(new float[]
        {
            0.1f, 0.5f, 0.2f, 0.9f, 0.0f, 0.3f,   // order 3,1,5,2,0,4
            0.8f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f,   // order 0,5,4,3,2,1
            0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f,   // order 5,4,3,2,1,0
        }, [3, 6]);
        using var targets = tensor(new long[] { 3, 2, 0 });
        // row 0: target first (top-1 and top-5); row 1: 5th (top-5 only); row 2: last (neither).
        Assert.Equal(new long[] { 1, 2 }, TopK.Correct(scores, targets, 1, 5));
        Assert.Equal(new long[] { 1, 1, 2, 3 }, TopK.Correct(scores, targets, 1, 4, 5, 6));
        Assert.Equal(new long[] { 3 }, TopK.Correct(scores, targets, 10));   // k above the classes counts every row
    }
}

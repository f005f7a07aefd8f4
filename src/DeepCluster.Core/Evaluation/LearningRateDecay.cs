namespace DeepCluster.Core.Evaluation;

/// <summary>The published <c>util.learning_rate_decay</c>: at iteration <c>t</c> (counted over all epochs), <c>lr = lr₀ / √(1 + lr₀ · wd · t)</c>.</summary>
public static class LearningRateDecay
{
    /// <summary>The learning rate of iteration <paramref name="iteration"/> (0-based) for <paramref name="lr0"/> and weight decay <paramref name="weightDecay"/> (not its power).</summary>
    public static double At(double lr0, double weightDecay, long iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), "iterations count from 0");
        return lr0 / Math.Sqrt(1 + lr0 * weightDecay * iteration);
    }
}

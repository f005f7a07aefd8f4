namespace DeepCluster.Core.Training;

/// <summary>
/// The optimiser settings of main.py: <c>--lr</c>, <c>--momentum</c> and <c>--wd</c> (weight decay as a power of ten).
/// </summary>
public sealed record SgdSettings(double LearningRate = 0.05, double Momentum = 0.9, double WeightDecayPower = -5)
{
    /// <summary>The weight decay itself: 10^wd.</summary>
    public double WeightDecay => Math.Pow(10, WeightDecayPower);
}

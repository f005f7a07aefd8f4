using System.Globalization;

namespace DeepCluster.Core.Visualisation;

/// <summary>
/// The flags of the published <c>gradient_ascent.py</c> (same names and defaults): learning rate <see cref="Lr"/>, weight
/// decay on the image <see cref="Wd"/>, Gaussian blur of <see cref="Sigma"/> every <see cref="Step"/> iterations,
/// <see cref="Iterations"/> iterations on a square image of side <see cref="ImageSize"/>. <see cref="Seed"/> draws each
/// filter's starting noise (filter f's depends only on the seed and f); <see cref="Batch"/> filters are optimised
/// together, each exactly as if alone.
/// </summary>
public sealed record GradientAscentSettings(double Lr = 3, double Wd = 1e-5, double Sigma = 0.3, int Step = 5, int Iterations = 1000,
                                            int ImageSize = 224, long Seed = 0, int Batch = 8)
{
    /// <summary>A value outside its range is an <see cref="ArgumentException"/> naming the flag.</summary>
    public void Validate()
    {
        static string S(double v) => v.ToString(CultureInfo.InvariantCulture);
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new ArgumentException($"--lr {S(Lr)}: the learning rate must be a positive number.");
        if (!(Wd >= 0) || double.IsInfinity(Wd)) throw new ArgumentException($"--wd {S(Wd)}: the weight decay must be 0 or more.");
        if (!(Sigma >= 0) || Sigma > 50) throw new ArgumentException($"--sig {S(Sigma)}: the blur's sigma must be between 0 and 50 pixels.");
        if (Step < 1) throw new ArgumentException($"--step {Step}: blur every 1 or more iterations.");
        if (Iterations < 1) throw new ArgumentException($"--niter {Iterations}: run 1 or more iterations.");
        if (ImageSize is < 1 or > 4096) throw new ArgumentException($"--idim {ImageSize}: the image side must be between 1 and 4096 pixels.");
        if (Batch < 1) throw new ArgumentException($"batch {Batch}: optimise 1 or more filters at a time.");
    }
}

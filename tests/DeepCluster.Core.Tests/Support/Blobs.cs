using TorchSharp;
using static TorchSharp.torch;

namespace DeepCluster.Core.Tests.Support;

/// <summary>Deterministic Gaussian blobs for clustering tests.</summary>
public static class Blobs
{
    /// <summary>n points in d dimensions around <paramref name="centers"/> random centres (coordinates in ±<paramref name="spread"/>), unit noise × <paramref name="noise"/>.</summary>
    public static (Tensor X, long[] Labels) Make(int n, int d, int centers, int seed, double spread = 10, double noise = 0.5)
    {
        var rng = new Random(seed);
        var c = new double[centers, d];
        for (int j = 0; j < centers; j++)
            for (int t = 0; t < d; t++) c[j, t] = (rng.NextDouble() * 2 - 1) * spread;
        var data = new float[n * d];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            int j = i % centers;
            labels[i] = j;
            for (int t = 0; t < d; t++) data[i * d + t] = (float)(c[j, t] + noise * Gaussian(rng));
        }
        return (torch.tensor(data, new long[] { n, d }), labels);
    }

    static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

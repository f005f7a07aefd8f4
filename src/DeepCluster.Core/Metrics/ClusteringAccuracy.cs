namespace DeepCluster.Core.Metrics;

/// <summary>
/// Unsupervised clustering accuracy: the fraction of points whose cluster maps to their class under the
/// one-to-one cluster→class mapping that maximises matches (found with <see cref="Hungarian"/> on the
/// contingency table, padded square when the numbers of clusters and classes differ).
/// </summary>
public static class ClusteringAccuracy
{
    /// <summary>Best-matching accuracy in [0, 1]; 1 for two empty labelings.</summary>
    public static double Score(ReadOnlySpan<long> labelsTrue, ReadOnlySpan<long> labelsPred)
    {
        LabelIndex.RequireSameLength(labelsTrue, labelsPred);
        if (labelsTrue.Length == 0) return 1.0;
        var (t, kt) = LabelIndex.Dense(labelsTrue);
        var (p, kp) = LabelIndex.Dense(labelsPred);
        int size = Math.Max(kt, kp);
        var counts = new long[size, size];
        for (int i = 0; i < t.Length; i++) counts[p[i], t[i]]++;
        var cost = new double[size, size];
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++) cost[i, j] = -counts[i, j];
        var match = Hungarian.Solve(cost);
        long hits = 0;
        for (int i = 0; i < size; i++) hits += counts[i, match[i]];
        return hits / (double)t.Length;
    }

    /// <summary>Accuracy for int labels.</summary>
    public static double Score(int[] labelsTrue, int[] labelsPred) =>
        Score(labelsTrue.Select(x => (long)x).ToArray(), labelsPred.Select(x => (long)x).ToArray());
}

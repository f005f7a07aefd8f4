namespace DeepCluster.Core.Metrics;

/// <summary>
/// Normalised mutual information as scikit-learn's <c>normalized_mutual_info_score</c> with its default
/// <c>average_method="arithmetic"</c> (sklearn ≥ 0.22): MI / ((H(true) + H(pred)) / 2), natural logarithms.
/// </summary>
public static class NormalizedMutualInfo
{
    const double MachineEpsilon = 2.220446049250313e-16;   // np.finfo(float64).eps

    /// <summary>NMI between two labelings of the same points (symmetric, in [0, 1]).</summary>
    public static double Score(ReadOnlySpan<long> labelsTrue, ReadOnlySpan<long> labelsPred)
    {
        LabelIndex.RequireSameLength(labelsTrue, labelsPred);
        var (a, ka) = LabelIndex.Dense(labelsTrue);
        var (b, kb) = LabelIndex.Dense(labelsPred);
        // sklearn: both labelings constant (or empty) is a perfect match.
        if ((ka == 1 && kb == 1) || (ka == 0 && kb == 0)) return 1.0;
        double mi = MutualInfo(a, ka, b, kb);
        if (mi == 0) return 0.0;
        double normalizer = (Entropy(a, ka) + Entropy(b, kb)) / 2;
        return mi / Math.Max(normalizer, double.Epsilon);
    }

    /// <summary>NMI for int labels.</summary>
    public static double Score(int[] labelsTrue, int[] labelsPred) =>
        Score(labelsTrue.Select(x => (long)x).ToArray(), labelsPred.Select(x => (long)x).ToArray());

    /// <summary>Mutual information (nats) of two dense labelings, computed like sklearn's <c>mutual_info_score</c>.</summary>
    static double MutualInfo(int[] a, int ka, int[] b, int kb)
    {
        if (ka == 1 || kb == 1) return 0.0;
        var joint = new Dictionary<long, long>();
        var pa = new long[ka];
        var pb = new long[kb];
        for (int i = 0; i < a.Length; i++)
        {
            long key = (long)a[i] * kb + b[i];
            joint[key] = joint.GetValueOrDefault(key) + 1;
            pa[a[i]]++;
            pb[b[i]]++;
        }
        double n = a.Length, logN = Math.Log(n), sum = 0;
        foreach (var (key, count) in joint)
        {
            long i = key / kb, j = key % kb;
            double p = count / n;
            double term = p * (Math.Log(count) - logN) + p * (-Math.Log((double)pa[i] * pb[j]) + logN + logN);
            if (Math.Abs(term) >= MachineEpsilon) sum += term;       // sklearn zeroes |term| < eps
        }
        return Math.Max(sum, 0.0);
    }

    /// <summary>Entropy (nats) of a dense labeling.</summary>
    static double Entropy(int[] a, int k)
    {
        if (a.Length == 0) return 1.0;
        var counts = new long[k];
        foreach (var x in a) counts[x]++;
        double n = a.Length, h = 0;
        foreach (var c in counts)
            if (c > 0) h -= c / n * (Math.Log(c) - Math.Log(n));
        return h;
    }
}

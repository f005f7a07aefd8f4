namespace DeepCluster.Core.Metrics;

/// <summary>Maps arbitrary integer labels to dense indices 0..K-1 in ascending label order (like np.unique's inverse).</summary>
internal static class LabelIndex
{
    public static (int[] Index, int Count) Dense(ReadOnlySpan<long> labels)
    {
        var distinct = labels.ToArray().Distinct().Order().ToArray();
        var map = new Dictionary<long, int>(distinct.Length);
        for (int i = 0; i < distinct.Length; i++) map[distinct[i]] = i;
        var index = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) index[i] = map[labels[i]];
        return (index, distinct.Length);
    }

    public static void RequireSameLength(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"label arrays differ in length: {a.Length} and {b.Length}.");
    }
}
